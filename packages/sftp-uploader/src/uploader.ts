// ssh2 is CommonJS: `utils` is not detectable as a named ESM export, so take it from the default.
import ssh2 from 'ssh2';
import { type ChunkSource, chunkSource } from './body.js';
import { type Connection, OperationError, openConnection, STATUS } from './connection.js';
import { SftpClosedError, SftpConfigError, SftpUploadError } from './errors.js';
import { classify, type Failure, FailureError, redact, toPublicError } from './failures.js';
import { checkFileName, type ResolvedOptions, resolveOptions, silentLogger } from './options.js';
import { directoryChain, type RemoteTarget, remoteTarget } from './paths.js';
import { backoffDelay } from './retry.js';
import { durableOffset, newTransferState, type TransferState, writeAll } from './transfer.js';
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
          redact(
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

  /** The host key fingerprint the server presented on the latest connection, if any. */
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
      checkFileName(name);
      if (!isBody(body)) {
        throw new SftpConfigError(
          'INVALID_BODY',
          `Cannot upload "${name}": the body must be a string, a Buffer/Uint8Array or a stream (async iterable).`,
          { file: name },
        );
      }
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#serialize(() => this.#upload(name, body));
  }

  /**
   * Uploads files one after the other over the same connection and reports each outcome (in
   * order). After a host key mismatch or an authentication failure the remaining files are
   * not attempted (their outcome carries the same code).
   *
   * @example
   * const outcomes = await uploader.putMany([{ name: 'a.csv', body: a }, { name: 'b.csv', body: b }]);
   * const failed = outcomes.filter((o) => !o.ok);
   */
  async putMany(files: Iterable<SftpFile> | AsyncIterable<SftpFile>): Promise<SftpPutOutcome[]> {
    const outcomes: SftpPutOutcome[] = [];
    let fatal: SftpUploadError | undefined;
    for await (const file of files) {
      if (fatal !== undefined) {
        outcomes.push({
          name: file.name,
          ok: false,
          error: new SftpUploadError(
            fatal.code,
            `Upload of "${file.name}" was not attempted: an earlier file of the batch failed with ${fatal.code}.`,
            false,
            { file: file.name, server: this.#server, cause: fatal },
          ),
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
   * Waits for queued uploads to finish, then closes the connection. Later calls to `put`
   * reject with `UPLOADER_CLOSED`.
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
      this.#log.warn(
        `SFTP host key of ${this.#server} is not pinned: accepted ${fp} on first use. Verify it out of band and set hostKeySha256 to pin it.`,
        { server: this.#server, hostKeySha256: fp },
      );
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
    try {
      return await conn.open(target.tempPath, this.#o.fileMode, false);
    } catch (err) {
      // The directory may have been removed since we checked it: check once more.
      if (err instanceof OperationError && err.statusCode === STATUS.NO_SUCH_FILE) {
        conn.knownDirs.delete(target.dir);
        await this.#ensureDir(conn, target.dir);
        return await conn.open(target.tempPath, this.#o.fileMode, false);
      }
      throw err;
    }
  }

  async #publish(
    conn: Connection,
    target: RemoteTarget,
  ): Promise<'posix-rename' | 'rename' | 'remove+rename'> {
    const { tempPath, finalPath } = target;
    if (conn.posixRename !== false) {
      try {
        await conn.posixRenameTo(tempPath, finalPath);
        conn.posixRename = true;
        return 'posix-rename';
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
      return 'rename';
    } catch (err) {
      if (!(err instanceof OperationError) || err.kind !== 'status') throw err;
      if ((await conn.statIfExists(finalPath)) === undefined) throw err;
      // Plain SFTP rename refuses to overwrite: remove the old file first (not atomic).
      await conn.remove(finalPath);
      await conn.rename(tempPath, finalPath);
      return 'remove+rename';
    }
  }

  async #upload(name: string, body: SftpBody): Promise<SftpPutResult> {
    const started = Date.now();
    const target = remoteTarget(this.#o.remoteDir, name);
    const context = { file: name, server: this.#server, remotePath: target.finalPath };
    if (this.#closed) {
      throw new SftpClosedError(`Cannot upload "${name}": the uploader is closed.`, {
        file: name,
        server: this.#server,
      });
    }
    const source = chunkSource(body, this.#o.chunkSize);
    const state = newTransferState();
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
              return this.#done(name, target, state, attempts, resumed, publishing, started);
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
        const how = await this.#publish(conn, target);
        return this.#done(name, target, state, attempts, resumed, how, started);
      } catch (err) {
        const failure = classify(err);
        if (failure.retryable && attempts < this.#o.retry.maxAttempts && !this.#closed) {
          const delay = backoffDelay(attempts, this.#o.retry);
          this.#log.warn(
            redact(
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
        if (tempTouched) await this.#cleanup(conn, target);
        const error = toPublicError(failure, { ...context, attempts }, this.#secrets);
        this.#log.error(error.message, { file: name, code: error.code, attempts });
        throw error;
      }
    }
  }

  async #cleanup(conn: Connection | undefined, target: RemoteTarget): Promise<void> {
    if (conn === undefined || conn.closed) {
      this.#log.warn(
        `temporary file "${target.tempPath}" may remain on the server (connection lost); the next upload of the same name overwrites it`,
        { path: target.tempPath },
      );
      return;
    }
    try {
      await conn.remove(target.tempPath);
    } catch (err) {
      if (!(err instanceof OperationError && err.statusCode === STATUS.NO_SUCH_FILE)) {
        this.#log.warn(`could not remove temporary file "${target.tempPath}"`, {
          path: target.tempPath,
        });
      }
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
