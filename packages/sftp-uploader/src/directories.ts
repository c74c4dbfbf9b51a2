import type { Stats } from 'ssh2';
import { type Connection, OperationError, STATUS } from './connection.js';
import { permanent, type Session } from './job.js';
import { directoryChain } from './paths.js';

/** Whether `d` is a directory (`false`: missing); a non-directory in the way is a permanent failure. */
async function isDirectory(conn: Connection, d: string, session: Session): Promise<boolean> {
  let st: Stats | undefined;
  try {
    st = await conn.statIfExists(d);
  } catch (err) {
    if (err instanceof OperationError && err.kind === 'status') {
      throw permanent(
        'DIRECTORY_UNAVAILABLE',
        `cannot inspect remote directory "${d}" (${session.quote(err.serverText)})`,
        'Check that the remote user may access it.',
        err.original,
      );
    }
    throw err;
  }
  if (st !== undefined && !st.isDirectory()) {
    throw permanent(
      'DIRECTORY_UNAVAILABLE',
      `remote path "${d}" exists but is not a directory`,
      'Choose another remoteDir or file name.',
    );
  }
  return st !== undefined;
}

/**
 * Makes sure `dir` exists on the server (`mkdir -p` when `createDirectories`), remembering the
 * directories known to exist on this connection.
 */
export async function ensureDirectory(
  conn: Connection,
  dir: string,
  session: Session,
): Promise<void> {
  if (dir === '.' || dir === '/' || conn.knownDirs.has(dir)) return;
  if (await isDirectory(conn, dir, session)) {
    conn.knownDirs.add(dir);
    return;
  }
  if (!session.options.createDirectories) {
    throw permanent(
      'DIRECTORY_UNAVAILABLE',
      `remote directory "${dir}" does not exist and createDirectories is false`,
      'Create it on the server or enable createDirectories.',
    );
  }
  for (const d of directoryChain(dir)) {
    if (conn.knownDirs.has(d)) continue;
    if (d !== dir && (await isDirectory(conn, d, session))) {
      conn.knownDirs.add(d);
      continue;
    }
    try {
      await conn.mkdir(d);
    } catch (err) {
      if (!(err instanceof OperationError) || err.kind !== 'status') throw err;
      // Someone else may have created it meanwhile.
      if (!(await isDirectory(conn, d, session))) {
        const why =
          err.statusCode === STATUS.PERMISSION_DENIED
            ? 'permission denied'
            : session.quote(err.serverText);
        throw permanent(
          'DIRECTORY_UNAVAILABLE',
          `cannot create remote directory "${d}" (${why})`,
          'Create the directory on the server or grant the remote user write access to its parent; not retried.',
          err.original,
        );
      }
    }
    conn.knownDirs.add(d);
  }
}
