// ssh2 is CommonJS: `utils` is not detectable as a named ESM export, so take it from the default.
import { type Logger, silentLogger } from '@connect-wfm/core';
import ssh2 from 'ssh2';
import { discardBody, guardBody } from './body.js';
import { type Connection, openConnection } from './connection.js';
import {
  SftpAuthError,
  SftpClosedError,
  SftpConfigError,
  SftpHostKeyError,
  SftpUploadError,
} from './errors.js';
import { quoteForeign } from './failures.js';
import type { Session } from './job.js';
import { checkFileName, type ResolvedOptions, resolveOptions } from './options.js';
import { CLEANUP_TIMEOUT_MS } from './publish.js';
import { quoted } from './text.js';
import type {
  SftpBody,
  SftpFile,
  SftpPutOutcome,
  SftpPutResult,
  SftpUploaderOptions,
} from './types.js';
import { upload } from './upload.js';

/** Codes after which the remaining files of a batch are not attempted. */
const FATAL_FOR_BATCH = new Set(['HOST_KEY_MISMATCH', 'AUTHENTICATION_FAILED', 'UPLOADER_CLOSED']);

function secretsOf(o: ResolvedOptions): string[] {
  const secrets: string[] = [];
  if (o.password) secrets.push(o.password);
  if (o.passphrase) secrets.push(o.passphrase);
  if (o.privateKey !== undefined) {
    const text = o.privateKey.toString();
    secrets.push(text.trim());
    for (const line of text.split(/\r?\n/)) {
      const l = line.trim();
      if (l.length >= 16 && !l.startsWith('-----')) secrets.push(l);
    }
  }
  return secrets.filter((s) => s.length > 0);
}

function isBody(body: unknown): body is SftpBody {
  return (
    typeof body === 'string' ||
    body instanceof Uint8Array ||
    (typeof body === 'object' &&
      body !== null &&
      typeof (body as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function')
  );
}

/** Whether a private key that failed to parse looks like a file path rather than a key. */
function looksLikePath(key: string | Buffer): boolean {
  const text = key.toString().trim();
  return (
    text.length > 0 &&
    text.length < 1024 &&
    !/[\r\n]/.test(text) &&
    !text.includes('-----') &&
    (/^(~|\.{1,2})?[/\\]/.test(text) ||
      /^[A-Za-z]:[/\\]/.test(text) ||
      /(^|[/\\])(id_[a-z0-9_]+|[^/\\]+\.(pem|key|ppk))$/i.test(text))
  );
}

/** The same error for a file of a batch that was not attempted (same class, code, details). */
function skippedError(fatal: SftpUploadError, name: string, server: string): SftpUploadError {
  const message = `Upload of ${quoted(name)} was not attempted: an earlier file of the batch failed with ${fatal.code}.`;
  const details = { file: name, server, cause: fatal };
  if (fatal instanceof SftpHostKeyError) {
    return new SftpHostKeyError(
      message,
      { expected: fatal.expected, presented: fatal.presented },
      details,
    );
  }
  if (fatal instanceof SftpAuthError) return new SftpAuthError(message, details);
  if (fatal instanceof SftpClosedError) return new SftpClosedError(message, details);
  return new SftpUploadError(fatal.code, message, false, details);
}

/**
 * Delivers files to an SFTP server: one SSH connection for many files, host key pinning,
 * atomic publish (an exclusively created temporary file under an unpredictable name, then a
 * rename), streaming with backpressure, retries with
 * exponential backoff and reconnect for transient faults (resuming the interrupted transfer).
 * Uploads run one at a time, in call order.
 *
 * @example
 * import { SftpUploader } from '@connect-wfm/sftp-uploader';
 *
 * const uploader = new SftpUploader({
 *   host: 'sftp.example.com',
 *   username: 'wfm',
 *   privateKey: await readFile('/secrets/id_ed25519'),
 *   hostKeySha256: 'SHA256:Wszx+QIWIJ+h5ej8cEN3YBSE3hTWB8K8gT8XkFWhBYA',
 *   remoteDir: 'inbound/ctr',
 * });
 * try {
 *   await uploader.put('2024-01-01T00-15.csv', 'CallId,Queue\n1,Support\n');
 *   await uploader.put('big.csv', createReadStream('/tmp/big.csv'));
 * } finally {
 *   await uploader.close();
 * }
 */
export class SftpUploader {
  readonly #o: ResolvedOptions;
  readonly #log: Logger;
  readonly #secrets: string[];
  readonly #server: string;
  /** What the upload steps use: options, logger, quoting, a clean-up connection. */
  readonly #session: Session;
  #conn: Connection | undefined;
  #firstSeen: string | undefined;
  #presented: string | undefined;
  #tail: Promise<unknown> = Promise.resolve();
  #closed = false;

  /**
   * Validates the options (throws `SftpConfigError` listing every problem) and parses the
   * private key. Connects lazily, on the first upload.
   *
   * @example
   * const uploader = new SftpUploader({ host: '127.0.0.1', port: 2222, username: 'u', password: 'p' });
   */
  constructor(options: SftpUploaderOptions) {
    this.#o = resolveOptions(options);
    this.#log = this.#o.logger ?? silentLogger;
    this.#secrets = secretsOf(this.#o);
    this.#server = `${this.#o.host}:${this.#o.port}`;
    const o = this.#o;
    this.#session = {
      options: o,
      log: this.#log,
      server: this.#server,
      quote: (text) => quoteForeign(text, this.#secrets),
      orphans: new Set(),
      // Each step of a clean-up is bounded to a few seconds; the host key is checked as usual.
      openCleanupConnection: () =>
        openConnection(
          {
            ...o,
            connectTimeoutMs: Math.min(o.connectTimeoutMs, CLEANUP_TIMEOUT_MS),
            operationTimeoutMs: Math.min(o.operationTimeoutMs, CLEANUP_TIMEOUT_MS),
            keepaliveIntervalMs: 0,
          },
          { firstSeen: this.#firstSeen, onHostKey: () => {} },
        ),
    };
    if (this.#o.privateKey !== undefined) {
      const parsed = ssh2.utils.parseKey(this.#o.privateKey, this.#o.passphrase);
      if (parsed instanceof Error) {
        throw new SftpConfigError(
          'INVALID_PRIVATE_KEY',
          looksLikePath(this.#o.privateKey)
            ? 'Invalid SftpUploader options: privateKey looks like a file path, not a key. Pass the contents of the key file (for example `privateKey: await readFile(path)`).'
            : `Invalid SftpUploader options: privateKey cannot be used (${quoteForeign(parsed.message, this.#secrets)}). Check the key format and passphrase.`,
          { problems: [{ path: 'privateKey', message: 'cannot be used' }] },
        );
      }
    }
  }

  /** `host:port` of the server. */
  get server(): string {
    return this.#server;
  }

  /**
   * The host key fingerprint (`SHA256:…`) the server presented on the latest connection, if
   * any: without `hostKeySha256`, the value to verify out of band and pin.
   */
  get presentedHostKeySha256(): string | undefined {
    return this.#presented;
  }

  /**
   * Opens the connection now instead of on the first upload, so the SSH handshake overlaps
   * other work (opening the first file's source, say). Never rejects: it resolves `false` when
   * the connection could not be opened (logged at debug level), and the next upload connects
   * again and reports the failure with its usual retries. Queued like an upload; resolves
   * `true` at once when a connection is already open.
   *
   * @example
   * const warm = uploader.connect(); // while the object is fetched
   * await uploader.put('a.csv', body); // runs on the connection opened above
   */
  connect(): Promise<boolean> {
    if (this.#closed) return Promise.resolve(false);
    return this.#serialize(() => this.#connection()).then(
      () => true,
      (err: unknown) => {
        this.#log.debug('connecting ahead of the first upload failed; the upload will retry', {
          server: this.#server,
          error: this.#session.quote(err instanceof Error ? err.message : String(err)),
        });
        return false;
      },
    );
  }

  /**
   * Uploads one file atomically: it appears under its final name only once complete.
   * Resolves when the file is published; rejects with an {@link SftpUploadError} naming the
   * file and the cause.
   *
   * @example
   * const result = await uploader.put('reports/agents.csv', csvText);
   * console.log(result.remotePath, result.bytes);
   */
  put(name: string, body: SftpBody): Promise<SftpPutResult> {
    try {
      if (this.#closed) {
        throw new SftpClosedError(
          `Cannot upload ${typeof name === 'string' ? quoted(name) : 'a file'}: the uploader is closed (close() was called).`,
          { file: typeof name === 'string' ? name : undefined, server: this.#server },
        );
      }
      checkFileName(name);
      if (!isBody(body)) {
        throw new SftpConfigError(
          'INVALID_BODY',
          `Cannot upload ${quoted(name)}: the body must be a string, a Buffer/Uint8Array or a stream (async iterable).`,
          {
            file: name,
            problems: [{ path: 'body', message: 'must be a string, bytes or an async iterable' }],
          },
        );
      }
    } catch (err) {
      discardBody(body); // it will not be uploaded: release it (file descriptor)
      return Promise.reject(err);
    }
    guardBody(body); // an error while it waits in the queue becomes this file's BODY_FAILED
    return this.#serialize(() => upload(name, body, this.#session, this.#pool, this.#secrets));
  }

  /**
   * Uploads files one after the other over the same connection and reports each outcome (in
   * order). After a host key mismatch or an authentication failure the remaining files are
   * not attempted (their outcome carries the same code and error class, and their stream
   * bodies are destroyed). When `files` is an array, its stream bodies are watched from the
   * start: one failing while it waits (a missing source file) gets a `BODY_FAILED` outcome.
   *
   * @example
   * const outcomes = await uploader.putMany([{ name: 'a.csv', body: a }, { name: 'b.csv', body: b }]);
   * const failed = outcomes.filter((o) => !o.ok);
   */
  async putMany(files: Iterable<SftpFile> | AsyncIterable<SftpFile>): Promise<SftpPutOutcome[]> {
    const outcomes: SftpPutOutcome[] = [];
    let fatal: SftpUploadError | undefined;
    if (Array.isArray(files)) for (const file of files as SftpFile[]) guardBody(file?.body);
    for await (const file of files) {
      if (fatal !== undefined) {
        discardBody(file.body);
        outcomes.push({
          name: file.name,
          ok: false,
          error: skippedError(fatal, file.name, this.#server),
        });
        continue;
      }
      try {
        outcomes.push({ name: file.name, ok: true, result: await this.put(file.name, file.body) });
      } catch (err) {
        const error =
          err instanceof SftpUploadError
            ? err
            : new SftpUploadError('REMOTE_FAILURE', String(err), false, { file: file.name });
        outcomes.push({ name: file.name, ok: false, error });
        if (FATAL_FOR_BATCH.has(error.code)) fatal = error;
      }
    }
    return outcomes;
  }

  /**
   * Waits for queued uploads to finish (with their retries), then closes the connection.
   * Calls to `put` made after `close()` reject with `UPLOADER_CLOSED` at once.
   *
   * @example
   * await uploader.close();
   */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#tail.catch(() => undefined);
    const conn = this.#conn;
    this.#conn = undefined;
    await conn?.end();
  }

  #serialize<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(fn, fn);
    this.#tail = run.catch(() => undefined);
    return run;
  }

  async #connection(): Promise<Connection> {
    if (this.#conn !== undefined && !this.#conn.closed) return this.#conn;
    this.#conn = undefined;
    const conn = await openConnection(this.#o, {
      firstSeen: this.#firstSeen,
      onHostKey: (fp) => {
        this.#presented = fp;
      },
    });
    const fp = this.#presented;
    if (this.#o.hostKeySha256 === undefined && this.#firstSeen === undefined) {
      this.#firstSeen = fp;
      const message = `SFTP host key of ${this.#server} is not pinned: accepted ${fp} on first use. Verify it out of band and set hostKeySha256 to pin it.`;
      // Trust on first use is never silent: without a logger the warning goes to Node's
      // warning channel (stderr by default; observable with process.on('warning')).
      if (this.#o.logger !== undefined) {
        this.#log.warn(message, { server: this.#server, hostKeySha256: fp });
      } else {
        process.emitWarning(message, { code: 'SFTP_HOST_KEY_NOT_PINNED' });
      }
    }
    this.#log.info(`connected to sftp://${this.#server}`, {
      server: this.#server,
      hostKeySha256: fp,
      pinned: this.#o.hostKeySha256 !== undefined,
    });
    this.#conn = conn;
    return conn;
  }

  /** The uploader's one connection, as the upload steps see it. */
  readonly #pool = {
    get: () => this.#connection(),
    drop: () => {
      this.#conn?.destroy();
      this.#conn = undefined;
    },
  };
}
