/**
 * An in-process SFTP server built on `ssh2`, for machines without OpenSSH (`/usr/sbin/sshd`).
 *
 * It serves one local directory as the client's `/` (paths cannot leave it), accepts one user by
 * password or by an ed25519 public key, and answers the SFTP requests a file uploader uses:
 * open/read/write/close, stat/lstat/fstat, setstat/fsetstat (permissions), opendir/readdir,
 * realpath, mkdir/rmdir, remove and rename. Like OpenSSH's v3 `rename`, a rename onto an existing
 * name fails; it offers no `posix-rename@openssh.com` extension, so clients use the plain rename.
 * `kill()`/`start()`/`restart()` drop every connection and the listener, as a crash would.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Stats } from 'node:fs';
import { constants as fsc } from 'node:fs';
import {
  chmod,
  type FileHandle,
  link,
  lstat,
  mkdir,
  mkdtemp,
  open,
  readdir,
  rename,
  rm,
  rmdir,
  stat,
  unlink,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import ssh2, { type AuthContext, type Connection, type ParsedKey, type SFTPWrapper } from 'ssh2';
import { freePort } from './ports.js';

// ssh2 is CommonJS: Node's ESM loader sees only some of its named exports, so use the default
const { Server, utils } = ssh2;
const { OPEN_MODE, STATUS_CODE } = utils.sftp;

/** Options of {@link startSftpServer}. */
export interface SftpServerOptions {
  /** Local directory served as the client's `/`. @default a new temp directory */
  readonly root?: string;
  /** User name. @default `cwfm-<random>` */
  readonly username?: string;
  /** Called with a line per connection, authentication and failed request (never secrets). */
  readonly onLog?: (line: string) => void;
}

/** A running ssh2 SFTP server. */
export interface SftpServer {
  /** Always `127.0.0.1`. */
  readonly host: '127.0.0.1';
  /** TCP port chosen at run time (kept across {@link SftpServer.restart}). */
  readonly port: number;
  /** The user's name. */
  readonly username: string;
  /** The user's password. */
  readonly password: string;
  /** An authorized ed25519 private key without passphrase (OpenSSH format). */
  readonly privateKey: string;
  /** The host key's fingerprint as `ssh-keygen -lf` prints it: `SHA256:<base64>`. */
  readonly hostKeySha256: string;
  /** The host public key line (`ssh-ed25519 AAAA…`), for a `known_hosts` file. */
  readonly hostPublicKey: string;
  /** Local path of the directory the client sees as `/`. */
  readonly root: string;
  /** The remote path of {@link SftpServer.root} to give a client: `/`. */
  readonly remoteDir: '/';
  /** Whether the listener is running. */
  readonly running: boolean;
  /** Drops every connection (open transfers fail mid-way) and closes the listener. */
  kill(): Promise<void>;
  /** Listens again on the same port after {@link SftpServer.kill}; a no-op when running. */
  start(): Promise<void>;
  /** {@link SftpServer.kill} then {@link SftpServer.start}. */
  restart(): Promise<void>;
  /** Stops for good and removes the root directory when the server created it. */
  stop(): Promise<void>;
}

/** The SHA-256 fingerprint of an OpenSSH public key line, as `ssh-keygen -l -E sha256` prints it. */
function sha256Fingerprint(publicKeyLine: string): string {
  const blob = Buffer.from(publicKeyLine.split(' ')[1] ?? '', 'base64');
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

function parsedKey(text: string): ParsedKey {
  const key = utils.parseKey(text);
  if (key instanceof Error) throw key;
  return Array.isArray(key) ? (key[0] as ParsedKey) : key;
}

function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

function attrsOf(s: Stats) {
  return {
    mode: s.mode,
    uid: s.uid,
    gid: s.gid,
    size: s.size,
    atime: Math.floor(s.atimeMs / 1000),
    mtime: Math.floor(s.mtimeMs / 1000),
  };
}

function statusFor(err: unknown): number {
  const code = (err as { code?: unknown }).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return STATUS_CODE.NO_SUCH_FILE;
  if (code === 'EACCES' || code === 'EPERM') return STATUS_CODE.PERMISSION_DENIED;
  return STATUS_CODE.FAILURE;
}

/** SFTP open flags → `fs.open` flags. */
function openFlags(pflags: number): number {
  let flags =
    pflags & OPEN_MODE.READ && pflags & OPEN_MODE.WRITE
      ? fsc.O_RDWR
      : pflags & OPEN_MODE.WRITE
        ? fsc.O_WRONLY
        : fsc.O_RDONLY;
  if (pflags & OPEN_MODE.APPEND) flags |= fsc.O_APPEND;
  if (pflags & OPEN_MODE.CREAT) flags |= fsc.O_CREAT;
  if (pflags & OPEN_MODE.TRUNC) flags |= fsc.O_TRUNC;
  if (pflags & OPEN_MODE.EXCL) flags |= fsc.O_EXCL;
  return flags;
}

type Handle =
  | { readonly kind: 'file'; readonly fh: FileHandle; readonly path: string }
  | { readonly kind: 'dir'; readonly path: string; done: boolean };

/** Serves one SFTP session: every request maps to a `node:fs` call under `root`. */
function serveSftp(sftp: SFTPWrapper, root: string, log: (line: string) => void): void {
  const handles = new Map<number, Handle>();
  let next = 0;
  const local = (remote: string) => join(root, posix.resolve('/', remote));
  const newHandle = (h: Handle) => {
    const id = next++;
    handles.set(id, h);
    const buf = Buffer.alloc(4);
    buf.writeUInt32BE(id);
    return buf;
  };
  const handleOf = (buf: Buffer) =>
    buf.length === 4 ? handles.get(buf.readUInt32BE(0)) : undefined;
  const fail = (reqId: number, what: string, err: unknown) => {
    log(`${what}: ${(err as Error).message}`);
    sftp.status(reqId, statusFor(err), (err as Error).message);
  };
  const run = (reqId: number, what: string, fn: () => Promise<void>) => {
    fn().catch((err: unknown) => fail(reqId, what, err));
  };
  const ok = (reqId: number) => sftp.status(reqId, STATUS_CODE.OK);

  sftp.on('OPEN', (reqId, filename, flags, attrs) =>
    run(reqId, `open ${filename}`, async () => {
      const path = local(filename);
      const fh = await open(path, openFlags(flags), attrs.mode ?? 0o644);
      sftp.handle(reqId, newHandle({ kind: 'file', fh, path }));
    }),
  );
  sftp.on('WRITE', (reqId, handle, offset, data) =>
    run(reqId, 'write', async () => {
      const h = handleOf(handle);
      if (h?.kind !== 'file') return void sftp.status(reqId, STATUS_CODE.FAILURE, 'bad handle');
      await h.fh.write(data, 0, data.length, offset);
      ok(reqId);
    }),
  );
  sftp.on('READ', (reqId, handle, offset, length) =>
    run(reqId, 'read', async () => {
      const h = handleOf(handle);
      if (h?.kind !== 'file') return void sftp.status(reqId, STATUS_CODE.FAILURE, 'bad handle');
      const buf = Buffer.alloc(length);
      const { bytesRead } = await h.fh.read(buf, 0, length, offset);
      if (bytesRead === 0) sftp.status(reqId, STATUS_CODE.EOF);
      else sftp.data(reqId, buf.subarray(0, bytesRead));
    }),
  );
  sftp.on('FSTAT', (reqId, handle) =>
    run(reqId, 'fstat', async () => {
      const h = handleOf(handle);
      if (h === undefined) return void sftp.status(reqId, STATUS_CODE.FAILURE, 'bad handle');
      sftp.attrs(reqId, attrsOf(h.kind === 'file' ? await h.fh.stat() : await stat(h.path)));
    }),
  );
  sftp.on('FSETSTAT', (reqId, handle, attrs) =>
    run(reqId, 'fsetstat', async () => {
      const h = handleOf(handle);
      if (h?.kind !== 'file') return void sftp.status(reqId, STATUS_CODE.FAILURE, 'bad handle');
      if (attrs.mode !== undefined) await h.fh.chmod(attrs.mode & 0o7777);
      ok(reqId);
    }),
  );
  sftp.on('SETSTAT', (reqId, path, attrs) =>
    run(reqId, `setstat ${path}`, async () => {
      if (attrs.mode !== undefined) await chmod(local(path), attrs.mode & 0o7777);
      ok(reqId);
    }),
  );
  sftp.on('CLOSE', (reqId, handle) =>
    run(reqId, 'close', async () => {
      const h = handleOf(handle);
      if (h === undefined) return void sftp.status(reqId, STATUS_CODE.FAILURE, 'bad handle');
      handles.delete(handle.readUInt32BE(0));
      if (h.kind === 'file') await h.fh.close();
      ok(reqId);
    }),
  );
  sftp.on('OPENDIR', (reqId, path) =>
    run(reqId, `opendir ${path}`, async () => {
      const dir = local(path);
      if (!(await stat(dir)).isDirectory()) {
        return void sftp.status(reqId, STATUS_CODE.FAILURE, 'not a directory');
      }
      sftp.handle(reqId, newHandle({ kind: 'dir', path: dir, done: false }));
    }),
  );
  sftp.on('READDIR', (reqId, handle) =>
    run(reqId, 'readdir', async () => {
      const h = handleOf(handle);
      if (h?.kind !== 'dir') return void sftp.status(reqId, STATUS_CODE.FAILURE, 'bad handle');
      if (h.done) return void sftp.status(reqId, STATUS_CODE.EOF);
      h.done = true;
      const names = [];
      for (const name of await readdir(h.path)) {
        const s = await lstat(join(h.path, name)).catch(() => undefined);
        if (s === undefined) continue;
        names.push({ filename: name, longname: name, attrs: attrsOf(s) });
      }
      sftp.name(reqId, names);
    }),
  );
  const statLike = (reqId: number, path: string, follow: boolean) =>
    run(reqId, `stat ${path}`, async () => {
      sftp.attrs(reqId, attrsOf(follow ? await stat(local(path)) : await lstat(local(path))));
    });
  sftp.on('STAT', (reqId, path) => statLike(reqId, path, true));
  sftp.on('LSTAT', (reqId, path) => statLike(reqId, path, false));
  sftp.on('REALPATH', (reqId, path) => {
    const name = posix.resolve('/', path);
    sftp.name(reqId, [{ filename: name, longname: name, attrs: {} as never }]);
  });
  sftp.on('MKDIR', (reqId, path, attrs) =>
    run(reqId, `mkdir ${path}`, async () => {
      await mkdir(local(path), { mode: attrs.mode ?? 0o755 });
      ok(reqId);
    }),
  );
  sftp.on('RMDIR', (reqId, path) =>
    run(reqId, `rmdir ${path}`, async () => {
      await rmdir(local(path));
      ok(reqId);
    }),
  );
  sftp.on('REMOVE', (reqId, path) =>
    run(reqId, `remove ${path}`, async () => {
      await unlink(local(path));
      ok(reqId);
    }),
  );
  sftp.on('RENAME', (reqId, from, to) =>
    run(reqId, `rename ${from}`, async () => {
      const src = local(from);
      const dst = local(to);
      if ((await lstat(src)).isDirectory()) {
        if (await lstat(dst).catch(() => undefined))
          throw Object.assign(new Error('exists'), { code: 'EEXIST' });
        await rename(src, dst);
      } else {
        // link + unlink, as OpenSSH does: never replaces an existing name
        await link(src, dst);
        await unlink(src);
      }
      ok(reqId);
    }),
  );
  sftp.on('end', () => {
    for (const h of handles.values()) if (h.kind === 'file') void h.fh.close().catch(() => {});
    handles.clear();
  });
}

/**
 * A fresh ed25519 key pair from ssh2 (OpenSSH formats). ssh2's generator writes about one key in
 * 170 that its own parser rejects ("Malformed OpenSSH public key": it drops a leading zero byte
 * of the 32-byte public key, mscdex/ssh2#1390), so a pair is kept only once both halves parse;
 * a few tries are always enough.
 */
export function ed25519KeyPair(): { private: string; public: string } {
  for (let attempt = 0; attempt < 20; attempt++) {
    const pair = utils.generateKeyPairSync('ed25519');
    if (
      ![utils.parseKey(pair.private), utils.parseKey(pair.public)].some((k) => k instanceof Error)
    ) {
      return pair;
    }
  }
  throw new Error('ssh2 generated 20 ed25519 keys in a row that it cannot parse');
}

/**
 * Starts an ssh2 SFTP server on 127.0.0.1 (a port chosen at run time) with a generated ed25519
 * host key, a user with a random password and an authorized generated key.
 *
 * @example
 * const server = await startSftpServer();
 * // connect with host/port/username/password (or privateKey), pin hostKeySha256,
 * // upload to server.remoteDir; files land in server.root
 * await server.stop();
 */
export async function startSftpServer(options: SftpServerOptions = {}): Promise<SftpServer> {
  const log = options.onLog ?? (() => {});
  const ownRoot = options.root === undefined;
  const root = options.root ?? (await mkdtemp(join(tmpdir(), 'cwfm-sftp-')));
  const username = options.username ?? `cwfm-${randomBytes(4).toString('hex')}`;
  const password = randomBytes(18).toString('base64url');
  const hostKeys = ed25519KeyPair();
  const userKeys = ed25519KeyPair();
  const allowed = parsedKey(userKeys.public);
  const port = await freePort();
  const clients = new Set<Connection>();

  const onAuth = (ctx: AuthContext) => {
    const userOk = sameBytes(Buffer.from(ctx.username), Buffer.from(username));
    if (ctx.method === 'password') {
      if (userOk && sameBytes(Buffer.from(ctx.password), Buffer.from(password))) {
        log(`authenticated ${ctx.username} by password`);
        return ctx.accept();
      }
      return ctx.reject(['password', 'publickey']);
    }
    if (ctx.method === 'publickey') {
      const keyOk =
        userOk &&
        ctx.key.algo === allowed.type &&
        sameBytes(ctx.key.data, allowed.getPublicSSH() as Buffer);
      if (!keyOk) return ctx.reject(['password', 'publickey']);
      if (ctx.signature === undefined) return ctx.accept(); // the client asks whether the key would do
      if (
        ctx.blob !== undefined &&
        allowed.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true
      ) {
        log(`authenticated ${ctx.username} by public key`);
        return ctx.accept();
      }
      return ctx.reject(['password', 'publickey']);
    }
    return ctx.reject(['password', 'publickey']);
  };

  let server: InstanceType<typeof Server> | undefined;
  const listen = async () => {
    const s = new Server({ hostKeys: [hostKeys.private] }, (client) => {
      clients.add(client);
      client.on('authentication', onAuth);
      client.on('ready', () => {
        client.on('session', (accept) => {
          const session = accept();
          session.on('sftp', (acceptSftp) => serveSftp(acceptSftp(), root, log));
        });
      });
      client.on('error', (err) => log(`connection error: ${err.message}`));
      client.on('close', () => clients.delete(client));
    });
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        s.off('error', reject);
        resolve();
      });
    });
    server = s;
  };
  const kill = async () => {
    const s = server;
    server = undefined;
    for (const c of clients) c.end();
    clients.clear();
    if (s !== undefined) await new Promise<void>((resolve) => s.close(() => resolve()));
  };
  await listen();
  return {
    host: '127.0.0.1',
    port,
    username,
    password,
    privateKey: userKeys.private,
    hostKeySha256: sha256Fingerprint(hostKeys.public),
    hostPublicKey: hostKeys.public,
    root,
    remoteDir: '/',
    get running() {
      return server !== undefined;
    },
    kill,
    async start() {
      if (server === undefined) await listen();
    },
    async restart() {
      await kill();
      await listen();
    },
    async stop() {
      await kill();
      if (ownRoot) await rm(root, { recursive: true, force: true });
    },
  };
}
