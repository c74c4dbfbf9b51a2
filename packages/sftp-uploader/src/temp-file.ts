import type { Stats } from 'ssh2';
import { type Connection, OperationError, STATUS } from './connection.js';
import { ensureDirectory } from './directories.js';
import { type FileJob, permanent, type Session } from './job.js';
import { siblingName } from './paths.js';
import { durableOffset, writeAll } from './transfer.js';

const isStatus = (err: unknown, status?: number): err is OperationError =>
  err instanceof OperationError &&
  err.kind === 'status' &&
  (status === undefined || err.statusCode === status);

/** Same regular file, judged by what SFTP v3 attributes carry. */
const sameFile = (a: Stats, b: Stats): boolean =>
  a.isFile() && b.isFile() && a.size === b.size && a.mtime === b.mtime;

/**
 * Creates a new temporary file under a fresh unpredictable name, exclusively (`O_CREAT|O_EXCL`:
 * it fails rather than open anything already there, a symbolic link included), and sets its
 * permissions exactly (the mode given to open is reduced by the server's umask).
 */
async function createTemp(conn: Connection, job: FileJob, session: Session): Promise<Buffer> {
  const { fileMode } = session.options;
  const temp = siblingName(job.target, 'part');
  // Recorded before the request: the server may create it and the answer be lost.
  job.temp = temp;
  let handle: Buffer;
  try {
    handle = await conn.open(temp, fileMode, 'create');
  } catch (err) {
    // The directory may have been removed since we checked it: check once more.
    if (!isStatus(err, STATUS.NO_SUCH_FILE)) throw err;
    conn.knownDirs.delete(job.target.dir);
    await ensureDirectory(conn, job.target.dir, session);
    handle = await conn.open(temp, fileMode, 'create');
  }
  try {
    await conn.chmod(handle, temp, fileMode);
  } catch (err) {
    if (!conn.closed) await conn.close(handle, temp).catch(() => {});
    throw err;
  }
  return handle;
}

/**
 * Re-opens our temporary file after a lost connection, or `undefined` when it cannot be
 * trusted: gone, no longer a regular file (something replaced it with a link), or shorter than
 * the bytes the server acknowledged. It is checked with `lstat` before and after the open
 * (SFTP has no `O_NOFOLLOW`), so a link swapped in meanwhile is noticed and not written to.
 */
async function reopenTemp(
  conn: Connection,
  temp: string,
  from: number,
  session: Session,
): Promise<Buffer | undefined> {
  const before = await conn.lstatIfExists(temp);
  if (before === undefined || !before.isFile()) return undefined;
  let handle: Buffer;
  try {
    handle = await conn.open(temp, session.options.fileMode, 'existing');
  } catch (err) {
    if (isStatus(err, STATUS.NO_SUCH_FILE)) return undefined;
    throw err;
  }
  const opened = await conn.fstat(handle, temp);
  const after = await conn.lstatIfExists(temp);
  if (after === undefined || !sameFile(opened, after) || (opened.size ?? 0) < from) {
    await conn.close(handle, temp);
    return undefined;
  }
  await conn.chmod(handle, temp, session.options.fileMode);
  return handle;
}

/** Removes a temporary file of ours that will not be used (a refusal is ignored). */
async function dropTemp(conn: Connection, temp: string): Promise<void> {
  try {
    await conn.remove(temp);
  } catch (err) {
    if (!isStatus(err)) throw err;
  }
}

/**
 * Opens the temporary file for this attempt: our existing one to resume after a lost
 * connection, or a new one. A `string`/`Buffer` body whose temporary file cannot be resumed is
 * sent again from its start; a stream body then fails with `NOT_RESUMABLE`.
 */
async function openTemp(conn: Connection, job: FileJob, session: Session): Promise<Buffer> {
  const { temp, state, source } = job;
  if (temp === undefined) return await createTemp(conn, job, session);
  const from = durableOffset(state);
  const handle = await reopenTemp(conn, temp, from, session);
  if (handle !== undefined) {
    if (from > 0) {
      job.resumed = true;
      session.log.info(`resuming upload of ${job.target.finalPath} at byte ${from}`, {
        path: job.target.finalPath,
        offset: from,
      });
    }
    return handle;
  }
  if (!source.replayable && state.consumed > 0) {
    throw permanent(
      'NOT_RESUMABLE',
      `the connection was lost mid-transfer and the temporary file "${temp}" no longer holds the bytes already sent, so the stream body cannot be resumed`,
      'Upload the file again from its source.',
    );
  }
  if (state.consumed > 0) source.rewind();
  state.pending.clear();
  state.consumed = 0;
  state.sourceDone = false;
  await dropTemp(conn, temp);
  job.temp = undefined;
  return await createTemp(conn, job, session);
}

/** Writes the whole body to the temporary file (resuming it when possible) and closes it. */
export async function writeTemp(conn: Connection, job: FileJob, session: Session): Promise<void> {
  const handle = await openTemp(conn, job, session);
  const temp = job.temp as string;
  try {
    await writeAll(
      conn,
      handle,
      temp,
      job.state,
      job.source,
      session.options.concurrency,
      session.options.operationTimeoutMs,
    );
  } catch (err) {
    if (!conn.closed) await conn.close(handle, temp).catch(() => {});
    throw err;
  }
  await conn.close(handle, temp);
  job.written = true;
}

/** Whether our temporary file is still there, a regular file, holding every byte of the body. */
export async function tempHoldsBody(conn: Connection, job: FileJob): Promise<boolean> {
  if (job.temp === undefined) return false;
  const st = await conn.lstatIfExists(job.temp);
  return st?.isFile() === true && st.size === job.state.consumed;
}
