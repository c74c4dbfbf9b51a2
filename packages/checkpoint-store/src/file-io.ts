import { open, readlink, realpath } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import type { FileDocument } from './file-document.js';

// File-system helpers of the file store: errno checks, the real path behind links, the
// directory fsync after a rename, and the byte ranges of committed states in a written file.

/** Whether `err` is a Node.js system error with this `code`. */
export function isErrno(err: unknown, code: string): boolean {
  // not `instanceof Error`: errors of Node's core modules come from another realm under Jest
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}

/** Symbolic links followed at most (as the kernel's ELOOP limit). */
const MAX_LINK_HOPS = 40;

/**
 * The real path of `path`: symbolic links resolved, including a dangling one (a link whose
 * target does not exist yet resolves to that target, so the first write creates the target and
 * keeps the link). The directory must exist.
 */
export async function resolveRealPath(path: string): Promise<string> {
  let current = resolve(path);
  for (let hop = 0; hop <= MAX_LINK_HOPS; hop++) {
    try {
      return await realpath(current);
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err;
    }
    let target: string;
    try {
      target = await readlink(current);
    } catch (err) {
      // not a link (EINVAL) and not there (ENOENT): a file still to be created
      if (isErrno(err, 'EINVAL') || isErrno(err, 'ENOENT')) {
        return resolve(await realpath(dirname(current)), basename(current));
      }
      throw err;
    }
    current = resolve(dirname(current), target);
  }
  throw Object.assign(new Error(`too many symbolic links resolving ${path}`), { code: 'ELOOP' });
}
/** Fsyncs a directory so a rename in it survives a crash (skipped where impossible). */
export async function syncDirectory(dir: string): Promise<void> {
  let fh: Awaited<ReturnType<typeof open>> | undefined;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch (err) {
    // Some platforms (Windows) cannot open or fsync a directory; the rename is still atomic.
    if (!isErrno(err, 'EISDIR') && !isErrno(err, 'EPERM') && !isErrno(err, 'EINVAL')) throw err;
  } finally {
    await fh?.close();
  }
}
/** Committed states are escaped and written in slices of this many characters. */
export const WRITE_SLICE = 1 << 20;

/**
 * A document as this instance wrote it, with the file's identity. A committed state in it may be
 * a reference to its bytes in that file (`rangeRef`) instead of its text: never JSON text, which
 * cannot start with NUL.
 */
export interface WrittenDocument {
  readonly identity: string;
  readonly doc: FileDocument;
}

const RANGE_PREFIX = '\u0000file-range:';

/** A reference to bytes [start, end) of the written file, kept in place of a committed state. */
export function rangeRef(range: { start: number; end: number }): string {
  return `${RANGE_PREFIX}${range.start}:${range.end}`;
}

/** The byte range a {@link rangeRef} reference names; undefined for ordinary state text. */
export function rangeOf(text: string): { start: number; end: number } | undefined {
  if (!text.startsWith(RANGE_PREFIX)) return undefined;
  const [start, end] = text.slice(RANGE_PREFIX.length).split(':').map(Number);
  return start === undefined || end === undefined ? undefined : { start, end };
}

const PENDING_PREFIX = '\u0000pending-state:';
let pendingCount = 0;

/** A new reference to a state given to `commit()` and not written yet (see `FileCheckpointStore`). */
export function pendingRef(): string {
  pendingCount += 1;
  return `${PENDING_PREFIX}${pendingCount}`;
}

/** Device, inode, size and modification time: a file replaced or changed gets another. */
export function fileIdentity(st: {
  dev: bigint;
  ino: bigint;
  size: bigint;
  mtimeNs: bigint;
}): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}`;
}

/** Copies bytes [start, end) of the file at `path` (still `identity`) through `put`, 1 MB at a time. */
export async function copyRange(
  path: string,
  identity: string,
  range: { start: number; end: number },
  put: (chunk: Buffer) => Promise<void>,
): Promise<void> {
  const fh = await open(path, 'r');
  try {
    if (fileIdentity(await fh.stat({ bigint: true })) !== identity) {
      throw new Error(`${path} changed while it was being rewritten`);
    }
    const buf = Buffer.allocUnsafe(Math.min(WRITE_SLICE, Math.max(1, range.end - range.start)));
    for (let at = range.start; at < range.end; ) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, range.end - at), at);
      if (bytesRead === 0) throw new Error(`${path} ended before byte ${range.end}`);
      await put(buf.subarray(0, bytesRead));
      at += bytesRead;
    }
  } finally {
    await fh.close();
  }
}
