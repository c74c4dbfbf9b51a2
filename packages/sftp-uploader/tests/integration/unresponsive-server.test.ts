import { SftpConnectionError, SftpUploader } from '../../src/index.js';
import { type FakeServer, type FakeServerOptions, startFakeServer } from './fake-server.js';

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
    // Long enough for the SSH handshake on a loaded machine, short enough to keep the test quick.
    const uploader = new SftpUploader({ ...options(fake.port), connectTimeoutMs: 1500 });
    const started = Date.now();
    const outcome = await within(uploader.put('a.txt', 'hello'), 15_000);
    expect(outcome).toBeInstanceOf(SftpConnectionError);
    expect(outcome).toMatchObject({ code: 'TIMEOUT', retryable: true, attempts: 2 });
    expect((outcome as Error).message).toContain('did not open the SFTP session within 1500 ms');
    // Two attempts of 1.5 s each, not the default 30 s: the timeout, not a hang, ended them.
    expect(Date.now() - started).toBeLessThan(10_000);
    // The queue is not blocked: close() finishes too.
    expect(await within(uploader.close(), 5000)).toBeUndefined();
  });
});

describe('SftpUploader replacing a file without posix-rename', () => {
  const KEEP = '/up/keep.csv';
  /** One of the uploader's temporary names for keep.csv (`.keep.csv.<16 random>.part`). */
  const isPart = (path: string) => /^\/up\/\.keep\.csv\.[A-Za-z0-9_-]{16}\.part$/.test(path);
  /** One of its names for the previous version moved aside. */
  const isPrev = (path: string) => /^\/up\/\.keep\.csv\.[A-Za-z0-9_-]{16}\.prev$/.test(path);

  /** Every file on the fake server with its content. */
  const contents = (fake: FakeServer) =>
    Object.fromEntries([...fake.files].map(([k, v]) => [k, v.toString()]));

  /**
   * Runs `body` against a fake server holding `seed` (by default `/up/keep.csv` = `old`) and an
   * uploader with `maxAttempts` attempts whose log lines are collected as `level: message`, then
   * closes both.
   */
  async function replacing(
    fakeOptions: FakeServerOptions,
    maxAttempts: number,
    body: (fake: FakeServer, uploader: SftpUploader, logged: string[]) => Promise<void>,
    seed: Record<string, string> = { [KEEP]: 'old' },
  ): Promise<void> {
    const fake = await startFakeServer(fakeOptions);
    for (const [path, content] of Object.entries(seed)) fake.files.set(path, Buffer.from(content));
    const logged: string[] = [];
    const log = (level: string) => (m: string) => logged.push(`${level}: ${m}`);
    const uploader = new SftpUploader({
      ...options(fake.port),
      // Drops here are immediate; generous timeouts keep a slow machine from adding failures
      // of its own (the clean-up's new connection is bounded by these too).
      connectTimeoutMs: 10_000,
      operationTimeoutMs: 10_000,
      retry: { maxAttempts, baseDelayMs: 10, maxDelayMs: 20 },
      logger: { debug() {}, info: log('info'), warn: log('warn'), error: log('error') },
    });
    try {
      await body(fake, uploader, logged);
    } finally {
      await uploader.close();
      await fake.close();
    }
  }

  it('moves the old file back when the rename of the new one fails', async () => {
    let refuse = true;
    // A failure that is not "target exists" (an I/O or quota error, say).
    const renameStatus = (from: string, to: string) =>
      refuse && isPart(from) && to === KEEP ? 4 : undefined;
    await replacing({ renameStatus }, 2, async (fake, uploader) => {
      const err = await uploader.put('keep.csv', 'new').catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'REMOTE_FAILURE', retryable: false });
      expect(contents(fake)).toEqual({ [KEEP]: 'old' }); // no .part, no .prev left
      refuse = false;
      const replaced = await uploader.put('keep.csv', 'new');
      expect(replaced.publishedWith).toBe('remove+rename');
      expect(contents(fake)).toEqual({ [KEEP]: 'new' });
    });
  });

  it('finishes the replace on the retry when the connection drops after the old file is moved aside', async () => {
    let drops = 0;
    const dropAfterRename = (from: string, to: string) =>
      from === KEEP && isPrev(to) && drops++ === 0;
    await replacing({ dropAfterRename }, 2, async (fake, uploader) => {
      const replaced = await uploader.put('keep.csv', 'new');
      expect(drops).toBe(1);
      expect(replaced).toMatchObject({ publishedWith: 'remove+rename', attempts: 2 });
      expect(contents(fake)).toEqual({ [KEEP]: 'new' }); // no .prev left behind
    });
  });

  it('puts the old file back when the upload fails after moving it aside', async () => {
    const dropAfterRename = (from: string, to: string) => from === KEEP && isPrev(to);
    await replacing({ dropAfterRename }, 1, async (fake, uploader, logged) => {
      const err = await uploader.put('keep.csv', 'new').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SftpConnectionError);
      expect(contents(fake)).toEqual({ [KEEP]: 'old' }); // no .part, no .prev
      expect(logged).toContain('info: put the previous file back at /up/keep.csv');
    });
  });

  it('removes the stale backup when both renames were done but the reply was lost', async () => {
    const dropAfterRename = (from: string, to: string) => isPart(from) && to === KEEP;
    await replacing({ dropAfterRename }, 1, async (fake, uploader) => {
      const err = await uploader.put('keep.csv', 'new').catch((e: unknown) => e);
      // The reply to the publishing rename was lost, so the upload is reported failed, but
      // the new file is in place and nothing else is left.
      expect(err).toBeInstanceOf(SftpConnectionError);
      expect(contents(fake)).toEqual({ [KEEP]: 'new' });
    });
  });

  it('removes the backup over a new connection when the connection drops on its removal', async () => {
    // the first REMOVE of the backup follows both renames
    let removes = 0;
    const dropOnRemove = (path: string) => isPrev(path) && ++removes === 1;
    await replacing({ dropOnRemove }, 2, async (fake, uploader) => {
      const replaced = await uploader.put('keep.csv', 'new!');
      expect(removes).toBeGreaterThanOrEqual(2);
      expect(replaced).toMatchObject({ publishedWith: 'remove+rename', attempts: 1 });
      expect(contents(fake)).toEqual({ [KEEP]: 'new!' });
    });
  });

  it('never puts the old file back once the new one was published and picked up', async () => {
    const dropAfterRename = (from: string, to: string, files: Map<string, Buffer>) => {
      if (!isPart(from) || to !== KEEP) return false;
      files.delete(KEEP); // a consumer on the server takes the delivered file
      return true;
    };
    await replacing({ dropAfterRename }, 1, async (fake, uploader, logged) => {
      const err = await uploader.put('keep.csv', 'today').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SftpConnectionError); // the reply was lost
      expect(contents(fake)).toEqual({}); // the old file is not delivered again
      expect(logged.filter((m) => m.includes('put the previous file back'))).toEqual([]);
    });
  });

  it("leaves a user's own files with the old fixed temporary and backup names alone", async () => {
    const mine = { [KEEP]: 'old', '/up/.keep.csv.part': 'mine', '/up/.keep.csv.prev': 'also mine' };
    await replacing(
      {},
      1,
      async (fake, uploader) => {
        const result = await uploader.put('keep.csv', 'new');
        expect(result).toMatchObject({ publishedWith: 'remove+rename', attempts: 1 });
        expect(contents(fake)).toEqual({ ...mine, [KEEP]: 'new' });
      },
      mine,
    );
  });

  it('names the backup it could not remove, and still reports success', async () => {
    const removeStatus = (path: string) => (isPrev(path) ? 3 : undefined); // PERMISSION_DENIED
    await replacing({ removeStatus }, 1, async (fake, uploader, logged) => {
      const result = await uploader.put('keep.csv', 'new');
      expect(result).toMatchObject({ publishedWith: 'remove+rename', attempts: 1 });
      const left = [...fake.files.keys()].filter(isPrev);
      expect(left).toHaveLength(1);
      expect(contents(fake)).toEqual({ [KEEP]: 'new', [left[0] as string]: 'old' });
      expect(logged.filter((l) => l.startsWith('warn: could not remove'))).toEqual([
        `warn: could not remove the previous version "${left[0]}" (remove ${left[0]}: Permission denied); remove it on the server`,
      ]);
    });
  });

  it('reports a lost connection, not a failed move back, when the move back reply is lost', async () => {
    const renameStatus = (from: string, to: string) =>
      isPart(from) && to === KEEP ? 4 : undefined;
    const dropAfterRename = (from: string, to: string) => isPrev(from) && to === KEEP;
    await replacing({ renameStatus, dropAfterRename }, 1, async (fake, uploader) => {
      const err = await uploader.put('keep.csv', 'new').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SftpConnectionError);
      expect((err as Error).message).not.toContain('could not be moved back');
      expect(contents(fake)).toEqual({ [KEEP]: 'old' });
    });
  });
});
