// Issue 19, defect 5: nobody who can write to the upload directory may redirect a write with a
// planted symbolic link, and no user file with the old fixed temporary name is destroyed.
// Against a real OpenSSH server, with and without posix-rename (the replace path).
import {
  chownSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { type SshdServer, startSshd } from '@connect-wfm/testkit';
import { SftpConfigError, SftpUploader } from '../../src/index.js';
import { optionsFor, tempPathOf, tempSize } from './helpers.js';

const MiB = 1024 * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await sleep(2);
  }
}

describe.each([
  ['with posix-rename', [] as string[]],
  ['without posix-rename (move-aside replace)', ['posix-rename']],
])('SftpUploader and planted links, OpenSSH %s', (_, denied) => {
  let sshd: SshdServer;
  let owner: { uid: number; gid: number };
  let n = 0;

  beforeAll(async () => {
    sshd = await startSshd({ deniedSftpRequests: denied });
    owner = { uid: statSync(sshd.root).uid, gid: statSync(sshd.root).gid };
  });

  afterAll(async () => {
    await sshd?.stop();
  });

  /** A fresh directory owned by the SFTP user, and a file of that user's elsewhere (the victim). */
  function setup(): { dir: string; victim: string } {
    n++;
    const dir = join(sshd.root, `inbox-${n}`);
    const elsewhere = join(sshd.root, `elsewhere-${n}`);
    for (const d of [dir, elsewhere]) {
      mkdirSync(d);
      chownSync(d, owner.uid, owner.gid);
    }
    const victim = join(elsewhere, 'authorized_keys');
    writeFileSync(victim, 'ssh-ed25519 AAAA original\n');
    chownSync(victim, owner.uid, owner.gid); // writable by the SFTP user: a link would reach it
    return { dir, victim };
  }

  const plantLink = (path: string, target: string) => {
    symlinkSync(target, path);
    chownSync(path, owner.uid, owner.gid); // lchown: the link itself
  };

  const expectRegularFile = (path: string, content: string) => {
    expect(lstatSync(path).isSymbolicLink()).toBe(false);
    expect(lstatSync(path).isFile()).toBe(true);
    expect(readFileSync(path, 'utf8')).toBe(content);
  };

  it('never writes through a link planted at the old temporary or backup name', async () => {
    const { dir, victim } = setup();
    plantLink(join(dir, '.x.csv.part'), victim);
    plantLink(join(dir, '.x.csv.prev'), victim);
    const uploader = new SftpUploader(optionsFor(sshd, { remoteDir: dir }));
    try {
      await uploader.put('x.csv', 'CallId,Queue\n1,Support\n');
      const second = await uploader.put('x.csv', 'CallId,Queue\n2,Sales\n'); // replaces it
      expect(second.publishedWith).toBe(denied.length > 0 ? 'remove+rename' : 'posix-rename');
    } finally {
      await uploader.close();
    }
    expect(readFileSync(victim, 'utf8')).toBe('ssh-ed25519 AAAA original\n');
    expectRegularFile(join(dir, 'x.csv'), 'CallId,Queue\n2,Sales\n');
    // The planted links are left as they were, and nothing else of ours remains.
    expect(readlinkSync(join(dir, '.x.csv.part'))).toBe(victim);
    expect(readlinkSync(join(dir, '.x.csv.prev'))).toBe(victim);
    expect(readdirSync(dir).sort()).toEqual(['.x.csv.part', '.x.csv.prev', 'x.csv']);
  });

  it('replaces a link planted at the final name instead of writing through it', async () => {
    const { dir, victim } = setup();
    plantLink(join(dir, 'y.csv'), victim);
    const uploader = new SftpUploader(optionsFor(sshd, { remoteDir: dir }));
    try {
      await uploader.put('y.csv', 'delivered\n');
    } finally {
      await uploader.close();
    }
    expect(readFileSync(victim, 'utf8')).toBe('ssh-ed25519 AAAA original\n');
    expectRegularFile(join(dir, 'y.csv'), 'delivered\n');
    expect(readdirSync(dir)).toEqual(['y.csv']);
  });

  it("leaves a user's own file with the old temporary-name pattern alone", async () => {
    const { dir } = setup();
    for (const own of ['.z.csv.part', '.z.csv.prev']) {
      writeFileSync(join(dir, own), `my own ${own}\n`);
      chownSync(join(dir, own), owner.uid, owner.gid);
    }
    const uploader = new SftpUploader(optionsFor(sshd, { remoteDir: dir }));
    try {
      await uploader.put('z.csv', 'first\n');
      await uploader.put('z.csv', 'second\n');
    } finally {
      await uploader.close();
    }
    expectRegularFile(join(dir, 'z.csv'), 'second\n');
    expect(readFileSync(join(dir, '.z.csv.part'), 'utf8')).toBe('my own .z.csv.part\n');
    expect(readFileSync(join(dir, '.z.csv.prev'), 'utf8')).toBe('my own .z.csv.prev\n');
  });

  it('does not resume into a link swapped in for its temporary file while the server was down', async () => {
    const { dir, victim } = setup();
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    async function* body() {
      for (let i = 0; i < 4; i++) yield Buffer.alloc(MiB, 1);
      await gate; // the test takes the server down and swaps the file meanwhile
      for (let i = 0; i < 4; i++) yield Buffer.alloc(MiB, 2);
    }
    const uploader = new SftpUploader(
      optionsFor(sshd, { remoteDir: dir, retry: { maxAttempts: 12, baseMs: 100, maxMs: 400 } }),
    );
    try {
      const upload = uploader.put('big.bin', body()).catch((e: unknown) => e);
      await until(() => tempSize(dir, 'big.bin') >= 3 * MiB); // all but the chunk being assembled
      await sshd.kill();
      const temp = tempPathOf(dir, 'big.bin') as string;
      rmSync(temp);
      plantLink(temp, victim);
      await sshd.start();
      release();
      const err = await upload;
      // A stream cannot be sent again from its start: it fails, and nothing was written through.
      expect(err).toMatchObject({ code: 'NOT_RESUMABLE', retryable: false });
    } finally {
      release();
      await uploader.close();
      await sshd.start();
    }
    expect(readFileSync(victim, 'utf8')).toBe('ssh-ed25519 AAAA original\n');
    expect(readdirSync(dir)).toEqual([]); // no final file; the link at our name is removed
  });

  it('refuses names with CR, LF, ESC or other control characters before connecting', async () => {
    const { dir } = setup();
    const uploader = new SftpUploader(optionsFor(sshd, { remoteDir: dir, port: 1 }));
    try {
      for (const name of ['day\r\n.csv', 'a\u001b[2J.csv', 'tab\there.csv', 'x\u202egpj.csv']) {
        const err = await uploader.put(name, 'x').catch((e: unknown) => e);
        expect(err).toBeInstanceOf(SftpConfigError);
        expect(err).toMatchObject({ code: 'INVALID_FILE_NAME', retryable: false });
        expect((err as Error).message).toContain('control character U+');
        for (const c of ['\r', '\n', '\t', '\u001b', '\u202e']) {
          expect((err as Error).message).not.toContain(c);
        }
        expect((err as SftpConfigError).problems[0]?.path).toBe('name');
      }
    } finally {
      await uploader.close();
    }
    expect(readdirSync(dir)).toEqual([]);
  });
});
