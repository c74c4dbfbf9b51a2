import { redactSecrets } from '@connect-wfm/redact';
// ssh2 is CommonJS: `utils` is not detectable as a named ESM export, so take it from the default.
import ssh2 from 'ssh2';
import { bodyFailure, type ChunkSource, chunkSource, discardBody, guardBody } from './body.js';
import { type Connection, OperationError, openConnection, STATUS } from './connection.js';
import {
  SftpAuthError,
  SftpClosedError,
  SftpConfigError,
  SftpHostKeyError,
  SftpUploadError,
} from './errors.js';
import { classify, type Failure, FailureError, toPublicError } from './failures.js';
import { checkFileName, type ResolvedOptions, resolveOptions, silentLogger } from './options.js';
import { backupPath, directoryChain, type RemoteTarget, remoteTarget } from './paths.js';
import { backoffDelay } from './retry.js';
import {
  BodyReadError,
  durableOffset,
  newTransferState,
  type TransferState,
  writeAll,
} from './transfer.js';
import type {
  SftpBody,
  SftpFile,
  SftpLogger,
  SftpPutOutcome,
  SftpPutResult,
  SftpUploaderOptions,
} from './types.js';

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

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Upper bound of each step of the clean-up connection opened after a failed upload. */
const CLEANUP_TIMEOUT_MS = 5000;

const isNoSuchFile = (err: unknown): boolean =>
  err instanceof OperationError && err.statusCode === STATUS.NO_SUCH_FILE;

/** A clean-up failure for a log line (OperationError messages carry no secrets). */
const describe = (err: unknown): string =>
  err instanceof OperationError ? err.message : 'no connection for the clean-up';

/** Whether the old final file may be at `.<name>.prev` (an interrupted replace). */
interface MovedAside {
  value: boolean;
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
  const message = `Upload of "${name}" was not attempted: an earlier file of the batch failed with ${fatal.code}.`;
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

function remoteFailure(
  code: Failure['code'],
  reason: string,
  hint: string,
  cause?: unknown,
): FailureError {
  return new FailureError({ code, retryable: false, reason, hint, cause });
}

/**
 * Delivers files to an SFTP server: one SSH connection for many files, host key pinning,
 * atomic publish (`.<name>.part` then rename), streaming with backpressure, retries with
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
  readonly #log: SftpLogger;
  readonly #secrets: string[];
  readonly #server: string;
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
    if (this.#o.privateKey !== undefined) {
      const parsed = ssh2.utils.parseKey(this.#o.privateKey, this.#o.passphrase);
      if (parsed instanceof Error) {
        throw new SftpConfigError(
          'INVALID_PRIVATE_KEY',
          looksLikePath(this.#o.privateKey)
            ? 'Invalid SftpUploader options: privateKey looks like a file path, not a key. Pass the contents of the key file (for example `privateKey: await readFile(path)`).'
            : redactSecrets(
                `Invalid SftpUploader options: privateKey cannot be used (${parsed.message}). Check the key format and passphrase.`,
                this.#secrets,
              ),
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
          `Cannot upload "${String(name)}": the uploader is closed (close() was called).`,
          { file: typeof name === 'string' ? name : undefined, server: this.#server },
        );
      }
      checkFileName(name);
      if (!isBody(body)) {
        throw new SftpConfigError(
          'INVALID_BODY',
          `Cannot upload "${name}": the body must be a string, a Buffer/Uint8Array or a stream (async iterable).`,
          { file: name },
        );
      }
    } catch (err) {
      discardBody(body); // it will not be uploaded: release it (file descriptor)
      return Promise.reject(err);
    }
    guardBody(body); // an error while it waits in the queue becomes this file's BODY_FAILED
    return this.#serialize(() => this.#upload(name, body));
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

  #dropConnection(): void {
    this.#conn?.destroy();
    this.#conn = undefined;
  }

  async #ensureDir(conn: Connection, dir: string): Promise<void> {
    if (dir === '.' || dir === '/' || conn.knownDirs.has(dir)) return;
    const check = async (d: string) => {
      let st: Awaited<ReturnType<Connection['statIfExists']>>;
      try {
        st = await conn.statIfExists(d);
      } catch (err) {
        if (err instanceof OperationError && err.kind === 'status') {
          throw remoteFailure(
            'DIRECTORY_UNAVAILABLE',
            `cannot inspect remote directory "${d}" (${err.message})`,
            'Check that the remote user may access it.',
            err.original,
          );
        }
        throw err;
      }
      if (st !== undefined && !st.isDirectory()) {
        throw remoteFailure(
          'DIRECTORY_UNAVAILABLE',
          `remote path "${d}" exists but is not a directory`,
          'Choose another remoteDir or file name.',
        );
      }
      return st !== undefined;
    };
    if (await check(dir)) {
      conn.knownDirs.add(dir);
      return;
    }
    if (!this.#o.createDirectories) {
      throw remoteFailure(
        'DIRECTORY_UNAVAILABLE',
        `remote directory "${dir}" does not exist and createDirectories is false`,
        'Create it on the server or enable createDirectories.',
      );
    }
    for (const d of directoryChain(dir)) {
      if (conn.knownDirs.has(d)) continue;
      if (d !== dir && (await check(d))) {
        conn.knownDirs.add(d);
        continue;
      }
      try {
        await conn.mkdir(d);
      } catch (err) {
        if (!(err instanceof OperationError) || err.kind !== 'status') throw err;
        // Someone else may have created it meanwhile.
        if (!(await check(d))) {
          throw remoteFailure(
            'DIRECTORY_UNAVAILABLE',
            `cannot create remote directory "${d}" (${err.statusCode === STATUS.PERMISSION_DENIED ? 'permission denied' : err.message})`,
            'Create the directory on the server or grant the remote user write access to its parent; not retried.',
            err.original,
          );
        }
      }
      conn.knownDirs.add(d);
    }
  }

  /** Opens the temporary file: fresh (truncated), or resumed after a connection loss. */
  async #openTemp(
    conn: Connection,
    target: RemoteTarget,
    state: TransferState,
    source: ChunkSource,
    resume: boolean,
  ): Promise<{ handle: Buffer; resumed: boolean }> {
    if (resume) {
      const from = durableOffset(state);
      let handle: Buffer | undefined;
      try {
        handle = await conn.open(target.tempPath, this.#o.fileMode, true);
      } catch (err) {
        if (!(err instanceof OperationError && err.statusCode === STATUS.NO_SUCH_FILE)) throw err;
      }
      if (handle !== undefined) {
        const st = await conn.fstat(handle, target.tempPath);
        if ((st.size ?? 0) >= from) {
          await conn.chmod(handle, target.tempPath, this.#o.fileMode);
          this.#log.info(`resuming upload of ${target.finalPath} at byte ${from}`, {
            path: target.finalPath,
            offset: from,
          });
          return { handle, resumed: true };
        }
        await conn.close(handle, target.tempPath);
      }
      if (!source.replayable) {
        throw remoteFailure(
          'NOT_RESUMABLE',
          `the connection was lost mid-transfer and the temporary file "${target.tempPath}" no longer holds the bytes already sent, so the stream body cannot be resumed`,
          'Upload the file again from its source.',
        );
      }
      source.rewind();
      state.pending.clear();
      state.consumed = 0;
      state.sourceDone = false;
    }
    return { handle: await this.#openFresh(conn, target), resumed: false };
  }

  async #openFresh(conn: Connection, target: RemoteTarget): Promise<Buffer> {
    let handle: Buffer;
    try {
      handle = await conn.open(target.tempPath, this.#o.fileMode, false);
    } catch (err) {
      // The directory may have been removed since we checked it: check once more.
      if (!(err instanceof OperationError && err.statusCode === STATUS.NO_SUCH_FILE)) throw err;
      conn.knownDirs.delete(target.dir);
      await this.#ensureDir(conn, target.dir);
      handle = await conn.open(target.tempPath, this.#o.fileMode, false);
    }
    // The mode given to open applies only to a new file, minus the server's umask: set it
    // exactly (a leftover temporary file keeps its old mode otherwise).
    try {
      await conn.chmod(handle, target.tempPath, this.#o.fileMode);
    } catch (err) {
      if (!conn.closed) await conn.close(handle, target.tempPath).catch(() => {});
      throw err;
    }
    return handle;
  }

  async #publish(
    conn: Connection,
    target: RemoteTarget,
    aside: MovedAside,
  ): Promise<'posix-rename' | 'rename' | 'remove+rename'> {
    const { tempPath, finalPath } = target;
    if (conn.posixRename !== false) {
      try {
        await conn.posixRenameTo(tempPath, finalPath);
        conn.posixRename = true;
        return aside.value ? await this.#dropBackup(conn, target, aside) : 'posix-rename';
      } catch (err) {
        if (
          !(err instanceof OperationError) ||
          (err.kind !== 'status' && err.kind !== 'unsupported')
        ) {
          throw err;
        }
        if (err.kind === 'unsupported') conn.posixRename = false;
        this.#log.debug(`posix-rename not usable (${err.message}); falling back to rename`, {
          path: finalPath,
        });
      }
    }
    try {
      await conn.rename(tempPath, finalPath);
    } catch (err) {
      if (!(err instanceof OperationError) || err.kind !== 'status') throw err;
      // Refused outright: no workaround, and the existing file is left alone.
      if (err.statusCode === STATUS.PERMISSION_DENIED || err.statusCode === STATUS.OP_UNSUPPORTED) {
        throw err;
      }
      if ((await conn.statIfExists(finalPath)) === undefined) throw err;
      // Plain SFTP rename refuses to overwrite: replace the old file (not atomic).
      return await this.#replace(conn, target, err, aside);
    }
    // Published. An earlier attempt moved the old file aside and lost its connection before the
    // rename, or an earlier upload's clean-up could not reach the server: a backup may be left.
    if (aside.value) return await this.#dropBackup(conn, target, aside);
    await this.#dropStaleBackup(conn, target);
    return 'rename';
  }

  /**
   * Replaces an existing final file without `posix-rename`: the old file is moved aside to
   * `.<name>.prev`, the temporary file renamed, then the old file removed. If the rename
   * fails, the old file is moved back, so a refused rename never loses the delivered file.
   * `aside` records that the old file may be at `.<name>.prev`, for a retry or the clean-up
   * when the connection drops in between.
   */
  async #replace(
    conn: Connection,
    target: RemoteTarget,
    refused: OperationError,
    aside: MovedAside,
  ): Promise<'remove+rename'> {
    const { tempPath, finalPath } = target;
    const backup = backupPath(target);
    const isStatus = (e: unknown) => e instanceof OperationError && e.kind === 'status';
    // A stale backup (an earlier run interrupted) would block the move aside.
    await conn.remove(backup).catch((e: unknown) => {
      if (!isStatus(e)) throw e;
    });
    // Set before the request: the server may carry it out and the answer be lost.
    aside.value = true;
    try {
      await conn.rename(finalPath, backup);
    } catch (e) {
      if (!isStatus(e)) throw e;
      aside.value = false;
      throw refused; // nothing changed on the server
    }
    try {
      await conn.rename(tempPath, finalPath);
    } catch (err) {
      if (!isStatus(err)) throw err; // the connection is gone: a retry or the clean-up finishes
      try {
        await conn.rename(backup, finalPath);
        aside.value = false;
      } catch (back) {
        // The connection is gone: whether the move back was carried out is unknown; a retry
        // or the clean-up settles it (the clean-up puts the old file back).
        if (!isStatus(back)) throw back;
        throw remoteFailure(
          'REMOTE_FAILURE',
          `renaming "${tempPath}" to "${finalPath}" failed (${err instanceof Error ? err.message : String(err)}) and the previous file, moved aside to "${backup}", could not be moved back`,
          `Rename "${backup}" back to "${finalPath}" on the server, then upload again.`,
          err,
        );
      }
      throw err;
    }
    return await this.#dropBackup(conn, target, aside);
  }

  /**
   * Removes `.<name>.prev` once the new file is in place. If the connection drops, over one
   * short-lived new connection; a failure is only logged (the upload itself succeeded).
   */
  async #dropBackup(
    conn: Connection,
    target: RemoteTarget,
    aside: MovedAside,
  ): Promise<'remove+rename'> {
    const backup = backupPath(target);
    const removed = await this.#onCleanupConnection(conn, (c) => c.remove(backup));
    if (removed !== true && !isNoSuchFile(removed)) {
      this.#log.warn(
        `could not remove the previous version "${backup}" (${describe(removed)}); remove it on the server`,
        { path: backup },
      );
    }
    aside.value = false;
    return 'remove+rename';
  }

  /**
   * After a plain rename published the file: removes a `.<name>.prev` that an earlier upload of
   * the same name left when its clean-up could not reach the server (the final name was then
   * missing, which is why the plain rename succeeded). The new file supersedes it. Costs one
   * request per upload, and only on servers without `posix-rename`, the only ones that ever
   * get a backup. Any failure is only logged: the upload itself has succeeded.
   */
  async #dropStaleBackup(conn: Connection, target: RemoteTarget): Promise<void> {
    const backup = backupPath(target);
    try {
      await conn.remove(backup);
      this.#log.info(`removed ${backup}, left by an earlier interrupted replacement`, {
        path: backup,
      });
    } catch (err) {
      if (isNoSuchFile(err)) return;
      if (!(err instanceof OperationError) || err.kind !== 'status') {
        // The connection went away: whether a backup is there is unknown, and usually none is.
        this.#log.debug(`could not look for a stale ${backup} (${describe(err)})`, {
          path: backup,
        });
        return;
      }
      this.#log.warn(
        `could not remove "${backup}", left by an earlier interrupted replacement (${describe(err)}); remove it on the server`,
        { path: backup },
      );
    }
  }

  /**
   * Runs `step` over `conn` or, when that connection is gone (or drops during the step), over one
   * short-lived new connection (each step bounded by {@link CLEANUP_TIMEOUT_MS}). Resolves `true`
   * when the step succeeded, otherwise the last error (never rejects).
   */
  async #onCleanupConnection(
    conn: Connection | undefined,
    step: (c: Connection) => Promise<unknown>,
  ): Promise<true | unknown> {
    let last: unknown;
    if (conn !== undefined && !conn.closed) {
      try {
        await step(conn);
        return true;
      } catch (err) {
        if (err instanceof OperationError && err.kind === 'status') return err;
        last = err;
      }
    }
    let own: Connection | undefined;
    try {
      own = await openConnection(
        {
          ...this.#o,
          connectTimeoutMs: Math.min(this.#o.connectTimeoutMs, CLEANUP_TIMEOUT_MS),
          operationTimeoutMs: Math.min(this.#o.operationTimeoutMs, CLEANUP_TIMEOUT_MS),
          keepaliveIntervalMs: 0,
        },
        { firstSeen: this.#firstSeen, onHostKey: () => {} },
      );
      await step(own);
      return true;
    } catch (err) {
      return own === undefined && last !== undefined ? last : err;
    } finally {
      await own?.end();
    }
  }

  async #upload(name: string, body: SftpBody): Promise<SftpPutResult> {
    const started = Date.now();
    const target = remoteTarget(this.#o.remoteDir, name);
    const context = { file: name, server: this.#server, remotePath: target.finalPath };
    const early = bodyFailure(body);
    if (early !== undefined) {
      // The stream failed while it waited in the queue (a missing source file, say).
      const error = toPublicError(
        classify(new BodyReadError(early)),
        { ...context, attempts: 0 },
        this.#secrets,
      );
      discardBody(body);
      this.#log.error(error.message, { file: name, code: error.code, attempts: 0 });
      throw error;
    }
    const source = chunkSource(body, this.#o.chunkSize);
    const state = newTransferState();
    const aside: MovedAside = { value: false };
    let phase: 'new' | 'writing' | 'written' = 'new';
    let publishing: 'posix-rename' | 'rename' | 'remove+rename' | undefined;
    let resumed = false;
    let attempts = 0;

    for (;;) {
      attempts++;
      let conn: Connection | undefined;
      let tempTouched = phase !== 'new';
      try {
        conn = await this.#connection();
        await this.#ensureDir(conn, target.dir);
        if (phase === 'written') {
          // Everything was written before the connection dropped: publish what is there.
          const temp = await conn.statIfExists(target.tempPath);
          if (temp === undefined || temp.size !== state.consumed) {
            const final = await conn.statIfExists(target.finalPath);
            if (temp === undefined && publishing !== undefined && final?.size === state.consumed) {
              const how = aside.value ? await this.#dropBackup(conn, target, aside) : publishing;
              return this.#done(name, target, state, attempts, resumed, how, started);
            }
            phase = 'writing'; // the temp file is gone or damaged: write again
          }
        }
        if (phase !== 'written') {
          tempTouched = true;
          const opened = await this.#openTemp(conn, target, state, source, phase === 'writing');
          resumed ||= opened.resumed;
          phase = 'writing';
          try {
            await writeAll(
              conn,
              opened.handle,
              target.tempPath,
              state,
              source,
              this.#o.concurrency,
              this.#o.operationTimeoutMs,
            );
          } catch (err) {
            if (!conn.closed) await conn.close(opened.handle, target.tempPath).catch(() => {});
            throw err;
          }
          await conn.close(opened.handle, target.tempPath);
          phase = 'written';
        }
        publishing = conn.posixRename === false ? 'rename' : 'posix-rename';
        const how = await this.#publish(conn, target, aside);
        return this.#done(name, target, state, attempts, resumed, how, started);
      } catch (err) {
        const failure = classify(err);
        if (failure.retryable && attempts < this.#o.retry.maxAttempts) {
          const delay = backoffDelay(attempts, this.#o.retry);
          this.#log.warn(
            redactSecrets(
              `upload of "${name}" hit a transient fault (${failure.code}: ${failure.reason}); retry ${attempts}/${this.#o.retry.maxAttempts - 1} in ${delay} ms`,
              this.#secrets,
            ),
            { file: name, code: failure.code, attempt: attempts, delayMs: delay },
          );
          this.#dropConnection();
          await sleep(delay);
          continue;
        }
        if (failure.retryable) this.#dropConnection();
        await source.cancel().catch(() => undefined);
        if (tempTouched) await this.#cleanup(conn, target, aside.value);
        const error = toPublicError(failure, { ...context, attempts }, this.#secrets);
        this.#log.error(error.message, { file: name, code: error.code, attempts });
        throw error;
      }
    }
  }

  /**
   * Removes the temporary file of a failed upload. When an attempt had moved the old final file
   * aside to `.<name>.prev`: if the temporary file is gone, the new file was published (perhaps
   * picked up by the server since), so the backup is removed; otherwise the old file is put back
   * under its name (or, when that name is taken, the stale backup removed). Runs over the
   * upload's connection or one short-lived new one (see `#onCleanupConnection`).
   */
  async #cleanup(
    conn: Connection | undefined,
    target: RemoteTarget,
    movedAside: boolean,
  ): Promise<void> {
    const backup = backupPath(target);
    const outcome = await this.#onCleanupConnection(conn, async (c) => {
      if (movedAside) {
        try {
          const published = (await c.statIfExists(target.tempPath)) === undefined;
          if ((await c.statIfExists(backup)) !== undefined) {
            if (!published && (await c.statIfExists(target.finalPath)) === undefined) {
              await c.rename(backup, target.finalPath);
              this.#log.info(`put the previous file back at ${target.finalPath}`, {
                path: target.finalPath,
              });
            } else {
              await c.remove(backup);
            }
          }
        } catch (err) {
          if (!(err instanceof OperationError && err.kind === 'status')) throw err;
          this.#log.warn(
            `the previous file may be at "${backup}" (${err.message}); if "${target.finalPath}" is missing, rename it back on the server`,
            { path: backup },
          );
        }
      }
      await c.remove(target.tempPath);
    });
    if (outcome !== true && !isNoSuchFile(outcome)) {
      if (movedAside && !(outcome instanceof OperationError && outcome.kind === 'status')) {
        this.#log.warn(
          `the previous file may be at "${backup}" (${describe(outcome)}); if "${target.finalPath}" is missing, rename it back on the server`,
          { path: backup },
        );
      }
      this.#log.warn(
        `temporary file "${target.tempPath}" may remain on the server (${describe(outcome)}); the next upload of the same name overwrites it`,
        { path: target.tempPath },
      );
    }
  }

  #done(
    name: string,
    target: RemoteTarget,
    state: TransferState,
    attempts: number,
    resumed: boolean,
    publishedWith: SftpPutResult['publishedWith'],
    started: number,
  ): SftpPutResult {
    const result: SftpPutResult = {
      name,
      remotePath: target.finalPath,
      bytes: state.consumed,
      attempts,
      resumed,
      publishedWith,
      durationMs: Date.now() - started,
    };
    this.#log.debug(`uploaded ${target.finalPath}`, { ...result });
    return result;
  }
}
