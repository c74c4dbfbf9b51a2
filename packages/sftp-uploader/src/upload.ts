import { backoffDelay, sleep } from '@connect-wfm/core';
import { bodyFailure, chunkSource, discardBody } from './body.js';
import type { Connection } from './connection.js';
import { ensureDirectory } from './directories.js';
import type { SftpUploadError } from './errors.js';
import { classify, toPublicError } from './failures.js';
import type { FileJob, PublishedWith, Session } from './job.js';
import { remoteTarget } from './paths.js';
import { cleanupAfterFailure, dropBackup, publish, removeOrphans } from './publish.js';
import { tempHoldsBody, writeTemp } from './temp-file.js';
import { BodyReadError, newTransferState } from './transfer.js';
import type { SftpBody, SftpPutResult } from './types.js';

/** The connection an upload runs on, owned by the uploader (one for many files). */
export interface ConnectionPool {
  /** The open connection, or a new one. */
  get(): Promise<Connection>;
  /** Drops the connection after a transient fault (the next `get` reconnects). */
  drop(): void;
}

/**
 * One attempt: directory, temporary file (written, or resumed), publish. What an earlier attempt
 * already did is read from `job` and checked on the server, never assumed.
 */
async function attempt(conn: Connection, job: FileJob, session: Session): Promise<PublishedWith> {
  if (session.orphans.size > 0) await removeOrphans(conn, session);
  await ensureDirectory(conn, job.target.dir, session);
  if (job.written && !(await tempHoldsBody(conn, job))) {
    // The temporary file is gone or changed since it was written. If a rename was sent and its
    // answer lost, the file may be published already.
    if (job.renameSent !== undefined && job.temp !== undefined) {
      const [temp, final] = [
        await conn.lstatIfExists(job.temp),
        await conn.lstatIfExists(job.target.finalPath),
      ];
      if (temp === undefined && final?.isFile() === true && final.size === job.state.consumed) {
        return job.backup !== undefined ? await dropBackup(conn, job, session) : job.renameSent;
      }
    }
    job.written = false; // write it again (or resume it)
  }
  if (!job.written) await writeTemp(conn, job, session);
  return await publish(conn, job, session);
}

/**
 * Uploads one file with retries: transient faults are retried with backoff on a new connection,
 * continuing from what the server already holds; a permanent fault (or the last attempt) ends
 * with the clean-up and a public error.
 */
export async function upload(
  name: string,
  body: SftpBody,
  session: Session,
  pool: ConnectionPool,
  secrets: readonly string[],
): Promise<SftpPutResult> {
  const started = Date.now();
  const { options, log } = session;
  const target = remoteTarget(options.remoteDir, name);
  const context = { file: name, server: session.server, remotePath: target.finalPath };
  const fail = (error: SftpUploadError): never => {
    log.error(error.message, { file: name, code: error.code, attempts: error.attempts });
    throw error;
  };
  const early = bodyFailure(body);
  if (early !== undefined) {
    // The stream failed while it waited in the queue (a missing source file, say).
    discardBody(body);
    fail(
      toPublicError(
        classify(new BodyReadError(early), secrets),
        { ...context, attempts: 0 },
        secrets,
      ),
    );
  }
  const job: FileJob = {
    target,
    source: chunkSource(body, options.chunkSize),
    state: newTransferState(),
    temp: undefined,
    written: false,
    renameSent: undefined,
    backup: undefined,
    resumed: false,
  };
  const { maxAttempts, backoff } = options.retry;
  for (let attempts = 1; ; attempts++) {
    let conn: Connection | undefined;
    try {
      conn = await pool.get();
      const publishedWith = await attempt(conn, job, session);
      const result: SftpPutResult = {
        name,
        remotePath: target.finalPath,
        bytes: job.state.consumed,
        attempts,
        resumed: job.resumed,
        publishedWith,
        durationMs: Date.now() - started,
      };
      log.debug(`uploaded ${target.finalPath}`, { ...result });
      return result;
    } catch (err) {
      const failure = classify(err, secrets);
      if (failure.retryable && attempts < maxAttempts) {
        const delay = backoffDelay(attempts, backoff);
        log.warn(
          `upload of ${JSON.stringify(name)} hit a transient fault (${failure.code}: ${failure.reason}); retry ${attempts}/${maxAttempts - 1} in ${delay} ms`,
          { file: name, code: failure.code, attempt: attempts, delayMs: delay },
        );
        pool.drop();
        await sleep(delay);
        continue;
      }
      if (failure.retryable) pool.drop();
      await job.source.cancel().catch(() => undefined);
      await cleanupAfterFailure(conn, job, session);
      return fail(toPublicError(failure, { ...context, attempts }, secrets));
    }
  }
}
