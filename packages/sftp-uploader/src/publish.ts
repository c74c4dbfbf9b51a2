import { type Connection, OperationError, STATUS } from './connection.js';
import { type FileJob, type PublishedWith, permanent, type Session } from './job.js';
import { siblingName } from './paths.js';

const isStatus = (err: unknown): err is OperationError =>
  err instanceof OperationError && err.kind === 'status';

/** A clean-up failure for a log line. */
export const describeCleanupFailure = (err: unknown, session: Session): string =>
  err instanceof OperationError
    ? `${err.operation} ${err.path}: ${session.quote(err.serverText)}`
    : 'no connection for the clean-up';

/** Upper bound of each step of the clean-up connection opened after a failed upload. */
export const CLEANUP_TIMEOUT_MS = 5000;

/**
 * Runs `step` over `conn` or, when that connection is gone (or drops during the step), over one
 * short-lived new connection. Resolves `true` when the step succeeded, otherwise the last error
 * (never rejects).
 */
export async function onCleanupConnection(
  conn: Connection | undefined,
  session: Session,
  step: (c: Connection) => Promise<unknown>,
): Promise<true | unknown> {
  let last: unknown;
  if (conn !== undefined && !conn.closed) {
    try {
      await step(conn);
      return true;
    } catch (err) {
      if (isStatus(err)) return err;
      last = err;
    }
  }
  let own: Connection | undefined;
  try {
    own = await session.openCleanupConnection();
    await step(own);
    return true;
  } catch (err) {
    return own === undefined && last !== undefined ? last : err;
  } finally {
    await own?.end();
  }
}

/**
 * Removes the previous version moved aside once the new file is in place (over a short-lived new
 * connection if this one drops); a failure is only logged, naming the backup: the upload itself
 * succeeded.
 */
export async function dropBackup(
  conn: Connection,
  job: FileJob,
  session: Session,
): Promise<'remove+rename'> {
  const backup = job.backup as string;
  const removed = await onCleanupConnection(conn, session, (c) => c.remove(backup));
  const gone =
    removed === true || (isStatus(removed) && removed.statusCode === STATUS.NO_SUCH_FILE);
  if (!gone) {
    session.log.warn(
      `could not remove the previous version "${backup}" (${describeCleanupFailure(removed, session)}); remove it on the server`,
      { path: backup },
    );
  }
  job.backup = undefined;
  return 'remove+rename';
}

/**
 * Replaces an existing final file without `posix-rename`: the old file is moved aside to a fresh
 * unpredictable name, the temporary file renamed, then the old file removed. If the rename fails,
 * the old file is moved back, so a refused rename never loses the delivered file. `job.backup`
 * records where the old file may be, for a retry or the clean-up when the connection drops.
 */
async function replace(
  conn: Connection,
  job: FileJob,
  refused: OperationError,
  session: Session,
): Promise<'remove+rename'> {
  const temp = job.temp as string;
  const { finalPath } = job.target;
  const backup = siblingName(job.target, 'prev');
  // Recorded before the request: the server may carry it out and the answer be lost.
  job.backup = backup;
  try {
    await conn.rename(finalPath, backup);
  } catch (e) {
    if (!isStatus(e)) throw e;
    job.backup = undefined;
    throw refused; // nothing changed on the server
  }
  job.renameSent = 'remove+rename';
  try {
    await conn.rename(temp, finalPath);
  } catch (err) {
    if (!isStatus(err)) throw err; // the connection is gone: a retry or the clean-up finishes
    try {
      await conn.rename(backup, finalPath);
      job.backup = undefined;
    } catch (back) {
      // Whether the move back was carried out is unknown: a retry or the clean-up settles it.
      if (!isStatus(back)) throw back;
      throw permanent(
        'REMOTE_FAILURE',
        `renaming "${temp}" to "${finalPath}" failed (${session.quote(err.serverText)}) and the previous file, moved aside to "${backup}", could not be moved back`,
        `Rename "${backup}" back to "${finalPath}" on the server, then upload again.`,
        err,
      );
    }
    throw err;
  }
  return await dropBackup(conn, job, session);
}

/**
 * Renames the complete temporary file to the final name: atomically with
 * `posix-rename@openssh.com` when the server offers it, otherwise with a plain rename, replacing
 * an existing file by moving it aside first. A symbolic link at the final name is replaced, never
 * followed.
 */
export async function publish(
  conn: Connection,
  job: FileJob,
  session: Session,
): Promise<PublishedWith> {
  const temp = job.temp as string;
  const { finalPath } = job.target;
  if (conn.posixRename !== false) {
    job.renameSent = 'posix-rename';
    try {
      await conn.posixRenameTo(temp, finalPath);
      conn.posixRename = true;
      return job.backup !== undefined ? await dropBackup(conn, job, session) : 'posix-rename';
    } catch (err) {
      if (
        !(err instanceof OperationError) ||
        (err.kind !== 'status' && err.kind !== 'unsupported')
      ) {
        throw err;
      }
      if (err.kind === 'unsupported') conn.posixRename = false;
      session.log.debug(
        `posix-rename not usable (${session.quote(err.serverText)}); falling back to rename`,
        { path: finalPath },
      );
    }
  }
  job.renameSent = 'rename';
  try {
    await conn.rename(temp, finalPath);
  } catch (err) {
    if (!isStatus(err)) throw err;
    // Refused outright: no workaround, and the existing file is left alone.
    if (err.statusCode === STATUS.PERMISSION_DENIED || err.statusCode === STATUS.OP_UNSUPPORTED) {
      throw err;
    }
    if ((await conn.lstatIfExists(finalPath)) === undefined) throw err;
    // Plain SFTP rename refuses to overwrite: replace the old file (not atomic).
    return await replace(conn, job, err, session);
  }
  // An earlier attempt moved the old file aside and lost its connection before the rename.
  return job.backup !== undefined ? await dropBackup(conn, job, session) : 'rename';
}

/**
 * Removes temporary files that earlier failed uploads of this uploader left behind (see
 * {@link Session.orphans}); a name that is gone or still refused is forgotten, a lost connection
 * keeps it for next time. Never rejects.
 */
export async function removeOrphans(conn: Connection, session: Session): Promise<void> {
  for (const temp of [...session.orphans]) {
    try {
      await conn.remove(temp);
      session.log.info(`removed ${temp}, left by an earlier failed upload`, { path: temp });
    } catch (err) {
      if (!isStatus(err)) return; // the connection is gone: try again with the next upload
      if (err.statusCode !== STATUS.NO_SUCH_FILE) {
        session.log.warn(
          `could not remove "${temp}", left by an earlier failed upload (${describeCleanupFailure(err, session)}); remove it on the server`,
          { path: temp },
        );
      }
    }
    session.orphans.delete(temp);
  }
}

/**
 * After an upload failed for good: removes our temporary file and settles a previous version
 * moved aside. If the temporary file is gone, the new file was published (and may have been
 * picked up since), so the backup is removed; otherwise the old file is put back under its name
 * (or, when that name is taken, the backup removed). Never rejects; what it cannot do is logged.
 */
export async function cleanupAfterFailure(
  conn: Connection | undefined,
  job: FileJob,
  session: Session,
): Promise<void> {
  const { temp, backup } = job;
  const { finalPath } = job.target;
  if (temp === undefined && backup === undefined) return;
  const backupWarning = (why: string) =>
    session.log.warn(
      `the previous file may be at "${backup}" (${why}); if "${finalPath}" is missing, rename it back on the server`,
      { path: backup },
    );
  const outcome = await onCleanupConnection(conn, session, async (c) => {
    if (backup !== undefined) {
      try {
        const published = temp === undefined || (await c.lstatIfExists(temp)) === undefined;
        if ((await c.lstatIfExists(backup)) !== undefined) {
          if (!published && (await c.lstatIfExists(finalPath)) === undefined) {
            await c.rename(backup, finalPath);
            session.log.info(`put the previous file back at ${finalPath}`, { path: finalPath });
          } else {
            await c.remove(backup);
          }
        }
        job.backup = undefined;
      } catch (err) {
        if (!isStatus(err)) throw err;
        backupWarning(describeCleanupFailure(err, session));
        job.backup = undefined;
      }
    }
    if (temp !== undefined) await c.remove(temp);
  });
  const gone =
    outcome === true || (isStatus(outcome) && outcome.statusCode === STATUS.NO_SUCH_FILE);
  if (!gone) {
    if (job.backup !== undefined) backupWarning(describeCleanupFailure(outcome, session));
    if (temp === undefined) return;
    session.orphans.add(temp);
    session.log.warn(
      `temporary file "${temp}" may remain on the server (${describeCleanupFailure(outcome, session)}); this uploader removes it once it reaches the server again`,
      { path: temp },
    );
  }
}
