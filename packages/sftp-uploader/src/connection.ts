import {
  type CipherAlgorithm,
  Client,
  type ConnectConfig,
  type KexAlgorithm,
  type MacAlgorithm,
  type ServerHostKeyAlgorithm,
  type SFTPWrapper,
  type Stats,
} from 'ssh2';
import { sha256Fingerprint } from './fingerprint.js';
import type { ResolvedOptions } from './options.js';

/** SFTP status codes (draft-ietf-secsh-filexfer-02). */
export const STATUS = {
  EOF: 1,
  NO_SUCH_FILE: 2,
  PERMISSION_DENIED: 3,
  FAILURE: 4,
  BAD_MESSAGE: 5,
  NO_CONNECTION: 6,
  CONNECTION_LOST: 7,
  OP_UNSUPPORTED: 8,
} as const;

const OPEN_WRITE = 0x02;
const OPEN_CREAT = 0x08;
const OPEN_EXCL = 0x20;

/** An SFTP request that failed, with what was asked and on which path. */
export class OperationError extends Error {
  override readonly name = 'OperationError';
  constructor(
    readonly operation: string,
    readonly path: string,
    readonly original: unknown,
    readonly kind: 'status' | 'timeout' | 'unsupported' | 'lost',
  ) {
    super(
      `${operation} ${path}: ${original instanceof Error ? original.message : String(original)}`,
    );
  }

  /** The text of the underlying error (ssh2's or the server's: quote it with care). */
  get serverText(): string {
    return this.original instanceof Error ? this.original.message : String(this.original);
  }

  /** The SFTP status code, when the server answered one. */
  get statusCode(): number | undefined {
    const code = (this.original as { code?: unknown } | undefined)?.code;
    return typeof code === 'number' ? code : undefined;
  }
}

/** Why a connection attempt failed, as seen by the verifier. */
export interface HostKeyRejection {
  expected: string;
  presented: string;
  /** `pin`: `hostKeySha256` did not match; `changed`: the key changed since the first connection. */
  reason: 'pin' | 'changed';
}

/** A connection attempt that failed. */
export class ConnectError extends Error {
  override readonly name = 'ConnectError';
  constructor(
    readonly original: unknown,
    readonly hostKey: HostKeyRejection | undefined,
  ) {
    super(original instanceof Error ? original.message : String(original));
  }
}

/** One SSH connection with its SFTP session, as promises with timeouts. */
export class Connection {
  closed = false;
  /** Whether `posix-rename@openssh.com` is usable (`undefined` until tried). */
  posixRename: boolean | undefined;
  /** Directories known to exist on this connection. */
  readonly knownDirs = new Set<string>();

  readonly #whenClosed: Promise<void>;

  constructor(
    private readonly client: Client,
    readonly sftp: SFTPWrapper,
    readonly timeoutMs: number,
  ) {
    this.#whenClosed = new Promise<void>((resolve) => {
      client.on('close', () => {
        this.closed = true;
        resolve();
      });
    });
  }

  /** Ends the connection politely and waits (at most 2 s) for the socket to close. */
  async end(): Promise<void> {
    this.closed = true;
    this.client.end();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.#whenClosed,
      new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          this.client.destroy();
          resolve();
        }, 2000);
      }),
    ]);
    clearTimeout(timer);
  }

  /** Drops the connection at once (pending requests fail). */
  destroy(): void {
    this.closed = true;
    this.client.destroy();
  }

  private request<T>(
    operation: string,
    path: string,
    start: (cb: (err: Error | null | undefined, value?: T) => void) => void,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.closed) {
        reject(new OperationError(operation, path, new Error('connection closed'), 'lost'));
        return;
      }
      let done = false;
      const timer = setTimeout(() => {
        if (done) return;
        done = true;
        reject(
          new OperationError(
            operation,
            path,
            new Error(`no answer within ${this.timeoutMs} ms`),
            'timeout',
          ),
        );
        this.destroy();
      }, this.timeoutMs);
      try {
        start((err, value) => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          if (err) {
            const status = typeof (err as { code?: unknown }).code === 'number';
            reject(new OperationError(operation, path, err, status ? 'status' : 'lost'));
          } else resolve(value as T);
        });
      } catch (err) {
        // ssh2 throws synchronously for extensions the server does not offer.
        done = true;
        clearTimeout(timer);
        reject(new OperationError(operation, path, err, 'unsupported'));
      }
    });
  }

  stat(path: string): Promise<Stats> {
    return this.request<Stats>('stat', path, (cb) => this.sftp.stat(path, cb));
  }

  /** `stat`, or `undefined` when the path does not exist. */
  async statIfExists(path: string): Promise<Stats | undefined> {
    try {
      return await this.stat(path);
    } catch (err) {
      if (err instanceof OperationError && err.statusCode === STATUS.NO_SUCH_FILE) return undefined;
      throw err;
    }
  }

  mkdir(path: string): Promise<void> {
    return this.request<void>('mkdir', path, (cb) => this.sftp.mkdir(path, cb));
  }

  /**
   * Opens for writing: `create` makes a new file and fails when anything (a file, a symbolic
   * link) is already at `path` (`O_CREAT|O_EXCL`, ssh2's `'wx'`); `existing` opens a file that
   * is there, as is (to resume).
   */
  open(path: string, mode: number, how: 'create' | 'existing'): Promise<Buffer> {
    const flags = how === 'create' ? OPEN_WRITE | OPEN_CREAT | OPEN_EXCL : OPEN_WRITE;
    return this.request<Buffer>('open', path, (cb) => this.sftp.open(path, flags, { mode }, cb));
  }

  /** `lstat`: the entry itself (a symbolic link is not followed), or `undefined` when missing. */
  async lstatIfExists(path: string): Promise<Stats | undefined> {
    try {
      return await this.request<Stats>('lstat', path, (cb) => this.sftp.lstat(path, cb));
    } catch (err) {
      if (err instanceof OperationError && err.statusCode === STATUS.NO_SUCH_FILE) return undefined;
      throw err;
    }
  }

  fstat(handle: Buffer, path: string): Promise<Stats> {
    return this.request<Stats>('fstat', path, (cb) => this.sftp.fstat(handle, cb));
  }

  /** Sets the permissions of an open file exactly (`fsetstat`), whatever the umask. */
  chmod(handle: Buffer, path: string, mode: number): Promise<void> {
    return this.request<void>('chmod', path, (cb) => this.sftp.fchmod(handle, mode, cb));
  }

  close(handle: Buffer, path: string): Promise<void> {
    return this.request<void>('close', path, (cb) => this.sftp.close(handle, cb));
  }

  remove(path: string): Promise<void> {
    return this.request<void>('remove', path, (cb) => this.sftp.unlink(path, cb));
  }

  rename(from: string, to: string): Promise<void> {
    return this.request<void>('rename', to, (cb) => this.sftp.rename(from, to, cb));
  }

  posixRenameTo(from: string, to: string): Promise<void> {
    return this.request<void>('posix-rename', to, (cb) =>
      this.sftp.ext_openssh_rename(from, to, cb),
    );
  }
}

/** What {@link openConnection} needs besides the options. */
export interface ConnectContext {
  /** Fingerprint seen on an earlier connection of the same uploader (unpinned mode). */
  firstSeen: string | undefined;
  /** Called with the fingerprint the server presented (accepted or not). */
  onHostKey(fingerprint: string): void;
}

/**
 * Opens an SSH connection and an SFTP session. The host key is checked in `hostVerifier`,
 * i.e. after key exchange and before authentication.
 */
export function openConnection(o: ResolvedOptions, ctx: ConnectContext): Promise<Connection> {
  return new Promise<Connection>((resolve, reject) => {
    const client = new Client();
    let rejection: HostKeyRejection | undefined;
    let settled = false;
    let sessionTimer: NodeJS.Timeout | undefined;
    const fail = (err: unknown) => {
      clearTimeout(sessionTimer);
      if (settled) return;
      settled = true;
      client.destroy();
      reject(new ConnectError(err, rejection));
    };
    // An 'error' without listener would crash the process; late errors surface as failed requests.
    client.on('error', fail);
    client.on('close', () => fail(new Error('connection closed during the SSH handshake')));
    client.once('ready', () => {
      // ssh2 has no timeout of its own on the channel open and the SFTP subsystem start: a
      // server that authenticates and then never answers would hang the upload for ever.
      sessionTimer = setTimeout(() => {
        fail(
          Object.assign(
            new Error(
              `the server accepted the login but did not open the SFTP session within ${o.connectTimeoutMs} ms`,
            ),
            { level: 'client-timeout' },
          ),
        );
      }, o.connectTimeoutMs);
      client.sftp((err, sftp) => {
        clearTimeout(sessionTimer);
        if (err) {
          fail(err);
          return;
        }
        if (settled) return;
        settled = true;
        sftp.on('error', () => {
          // surfaces through the failing request
        });
        resolve(new Connection(client, sftp, o.operationTimeoutMs));
      });
    });

    const config: ConnectConfig = {
      host: o.host,
      port: o.port,
      username: o.username,
      readyTimeout: o.connectTimeoutMs,
      keepaliveInterval: o.keepaliveIntervalMs,
      keepaliveCountMax: 3,
      hostVerifier: (key: Buffer): boolean => {
        const presented = sha256Fingerprint(key);
        ctx.onHostKey(presented);
        if (o.hostKeySha256 !== undefined && presented !== o.hostKeySha256) {
          rejection = { expected: o.hostKeySha256, presented, reason: 'pin' };
          return false;
        }
        if (o.hostKeySha256 === undefined && ctx.firstSeen !== undefined) {
          if (presented !== ctx.firstSeen) {
            rejection = { expected: ctx.firstSeen, presented, reason: 'changed' };
            return false;
          }
        }
        return true;
      },
    };
    if (o.password !== undefined) config.password = o.password;
    if (o.privateKey !== undefined) config.privateKey = o.privateKey;
    if (o.passphrase !== undefined) config.passphrase = o.passphrase;
    const algorithms: NonNullable<ConnectConfig['algorithms']> = {};
    if (o.ciphers !== undefined) algorithms.cipher = [...o.ciphers] as CipherAlgorithm[];
    if (o.kexAlgorithms !== undefined) {
      algorithms.kex = [...o.kexAlgorithms] as KexAlgorithm[];
    }
    if (o.macs !== undefined) algorithms.hmac = [...o.macs] as MacAlgorithm[];
    if (o.hostKeyAlgorithms !== undefined) {
      algorithms.serverHostKey = [...o.hostKeyAlgorithms] as ServerHostKeyAlgorithm[];
    }
    if (Object.keys(algorithms).length > 0) config.algorithms = algorithms;
    try {
      client.connect(config);
    } catch (err) {
      fail(err);
    }
  });
}
