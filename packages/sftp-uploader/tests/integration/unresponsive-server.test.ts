import { SftpConnectionError, SftpUploader } from '../../src/index.js';
import { type FakeServer, startFakeServer } from './fake-server.js';

/** Settles with the promise's outcome, or with 'still pending' after `ms` (a bounded wait). */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | Error | 'still pending'> {
  let timer: NodeJS.Timeout | undefined;
  const pending = new Promise<'still pending'>((resolve) => {
    timer = setTimeout(() => resolve('still pending'), ms);
  });
  try {
    return await Promise.race([promise.catch((e: unknown) => e as Error), pending]);
  } finally {
    clearTimeout(timer);
  }
}

const options = (port: number) => ({
  host: '127.0.0.1',
  port,
  username: 'u',
  password: 'pw',
  remoteDir: '/up',
  connectTimeoutMs: 400,
  operationTimeoutMs: 400,
  keepaliveIntervalMs: 0,
  retry: { maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 20 },
  logger: { debug() {}, info() {}, warn() {}, error() {} },
});

describe('SftpUploader against a server that never opens the SFTP session', () => {
  let fake: FakeServer | undefined;

  afterEach(async () => {
    await fake?.close();
    fake = undefined;
  });

  it.each([
    ['the session channel', { hangSession: true }],
    ['the sftp subsystem', { hangSftpInit: true }],
  ])('times out when %s is never answered, retries, then fails with TIMEOUT', async (_, how) => {
    fake = await startFakeServer(how);
    const uploader = new SftpUploader(options(fake.port));
    const started = Date.now();
    const outcome = await within(uploader.put('a.txt', 'hello'), 5000);
    expect(outcome).toBeInstanceOf(SftpConnectionError);
    expect(outcome).toMatchObject({ code: 'TIMEOUT', retryable: true, attempts: 2 });
    expect((outcome as Error).message).toContain('did not open the SFTP session within 400 ms');
    expect(Date.now() - started).toBeLessThan(3000);
    // The queue is not blocked: close() finishes too.
    expect(await within(uploader.close(), 3000)).toBeUndefined();
  });
});

describe('SftpUploader replacing a file without posix-rename', () => {
  it('moves the old file back when the rename of the new one fails', async () => {
    let refuse = false;
    const fake = await startFakeServer({
      // A failure that is not "target exists" (an I/O or quota error, say).
      renameStatus: (from, to) =>
        refuse && from === '/up/.keep.csv.part' && to === '/up/keep.csv' ? 4 : undefined,
    });
    const uploader = new SftpUploader(options(fake.port));
    try {
      await uploader.put('keep.csv', 'IMPORTANT OLD CONTENT');
      refuse = true;
      const err = await uploader.put('keep.csv', 'new').catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'REMOTE_FAILURE', retryable: false });
      expect(fake.files.get('/up/keep.csv')?.toString()).toBe('IMPORTANT OLD CONTENT');
      expect([...fake.files.keys()]).toEqual(['/up/keep.csv']); // no .part, no .prev left

      refuse = false;
      const replaced = await uploader.put('keep.csv', 'new');
      expect(replaced.publishedWith).toBe('remove+rename');
      expect(fake.files.get('/up/keep.csv')?.toString()).toBe('new');
      expect([...fake.files.keys()]).toEqual(['/up/keep.csv']);
    } finally {
      await uploader.close();
      await fake.close();
    }
  });

  it('finishes the replace on the retry when the connection drops after the old file is moved aside', async () => {
    let drops = 0;
    const fake = await startFakeServer({
      dropAfterRename: (from, to) =>
        from === '/up/keep.csv' && to === '/up/.keep.csv.prev' && drops++ === 0,
    });
    const uploader = new SftpUploader(options(fake.port));
    try {
      await uploader.put('keep.csv', 'old');
      const replaced = await uploader.put('keep.csv', 'new');
      expect(drops).toBe(1);
      expect(replaced).toMatchObject({ publishedWith: 'remove+rename', attempts: 2 });
      expect(fake.files.get('/up/keep.csv')?.toString()).toBe('new');
      expect([...fake.files.keys()]).toEqual(['/up/keep.csv']); // no .prev left behind
    } finally {
      await uploader.close();
      await fake.close();
    }
  });

  it('puts the old file back when the upload fails after moving it aside', async () => {
    const fake = await startFakeServer({
      dropAfterRename: (from, to) => from === '/up/keep.csv' && to === '/up/.keep.csv.prev',
    });
    const infos: string[] = [];
    const uploader = new SftpUploader({
      ...options(fake.port),
      retry: { maxAttempts: 1, baseDelayMs: 10, maxDelayMs: 20 },
      logger: { debug() {}, info: (m: string) => infos.push(m), warn() {}, error() {} },
    });
    try {
      await uploader.put('keep.csv', 'IMPORTANT OLD CONTENT');
      const err = await uploader.put('keep.csv', 'new').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SftpConnectionError);
      expect(fake.files.get('/up/keep.csv')?.toString()).toBe('IMPORTANT OLD CONTENT');
      expect([...fake.files.keys()]).toEqual(['/up/keep.csv']); // no .part, no .prev
      expect(infos).toContain('put the previous file back at /up/keep.csv');
    } finally {
      await uploader.close();
      await fake.close();
    }
  });

  it('removes the stale backup when both renames were done but the reply was lost', async () => {
    const fake = await startFakeServer({
      dropAfterRename: (from, to) => from === '/up/.keep.csv.part' && to === '/up/keep.csv',
    });
    const uploader = new SftpUploader({
      ...options(fake.port),
      retry: { maxAttempts: 1, baseDelayMs: 10, maxDelayMs: 20 },
    });
    try {
      fake.files.set('/up/keep.csv', Buffer.from('old'));
      const err = await uploader.put('keep.csv', 'new').catch((e: unknown) => e);
      // The reply to the publishing rename was lost, so the upload is reported failed, but
      // the new file is in place and nothing else is left.
      expect(err).toBeInstanceOf(SftpConnectionError);
      expect(fake.files.get('/up/keep.csv')?.toString()).toBe('new');
      expect([...fake.files.keys()]).toEqual(['/up/keep.csv']);
    } finally {
      await uploader.close();
      await fake.close();
    }
  });

  it('removes the backup over a new connection when the connection drops on its removal', async () => {
    // the first REMOVE of the backup clears a stale one before the move aside; the second
    // follows both renames
    let removes = 0;
    let drops = 0;
    const fake = await startFakeServer({
      dropOnRemove: (path) => {
        if (path !== '/up/.keep.csv.prev' || ++removes !== 2) return false;
        drops += 1;
        return true;
      },
    });
    const uploader = new SftpUploader(options(fake.port));
    try {
      fake.files.set('/up/keep.csv', Buffer.from('old'));
      const replaced = await uploader.put('keep.csv', 'new!');
      expect(drops).toBe(1);
      expect(replaced).toMatchObject({ publishedWith: 'remove+rename', attempts: 1 });
      expect(fake.files.get('/up/keep.csv')?.toString()).toBe('new!');
      expect([...fake.files.keys()]).toEqual(['/up/keep.csv']);
    } finally {
      await uploader.close();
      await fake.close();
    }
  });

  it('never puts the old file back once the new one was published and picked up', async () => {
    const fake = await startFakeServer({
      dropAfterRename: (from, to, files) => {
        if (from !== '/up/.keep.csv.part' || to !== '/up/keep.csv') return false;
        files.delete('/up/keep.csv'); // a consumer on the server takes the delivered file
        return true;
      },
    });
    const infos: string[] = [];
    const uploader = new SftpUploader({
      ...options(fake.port),
      retry: { maxAttempts: 1, baseDelayMs: 10, maxDelayMs: 20 },
      logger: { debug() {}, info: (m: string) => infos.push(m), warn() {}, error() {} },
    });
    try {
      fake.files.set('/up/keep.csv', Buffer.from('YESTERDAY'));
      const err = await uploader.put('keep.csv', 'today').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SftpConnectionError); // the reply was lost
      expect([...fake.files.keys()]).toEqual([]); // yesterday's file is not delivered again
      expect(infos.filter((m) => m.includes('put the previous file back'))).toEqual([]);
    } finally {
      await uploader.close();
      await fake.close();
    }
  });

  it('reports a lost connection, not a failed move back, when the move back reply is lost', async () => {
    const fake = await startFakeServer({
      renameStatus: (from, to) =>
        from === '/up/.keep.csv.part' && to === '/up/keep.csv' ? 4 : undefined,
      dropAfterRename: (from, to) => from === '/up/.keep.csv.prev' && to === '/up/keep.csv',
    });
    const uploader = new SftpUploader({
      ...options(fake.port),
      retry: { maxAttempts: 1, baseDelayMs: 10, maxDelayMs: 20 },
    });
    try {
      fake.files.set('/up/keep.csv', Buffer.from('OLD'));
      const err = await uploader.put('keep.csv', 'new').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SftpConnectionError);
      expect((err as Error).message).not.toContain('could not be moved back');
      expect(fake.files.get('/up/keep.csv')?.toString()).toBe('OLD');
      expect([...fake.files.keys()]).toEqual(['/up/keep.csv']);
    } finally {
      await uploader.close();
      await fake.close();
    }
  });
});
