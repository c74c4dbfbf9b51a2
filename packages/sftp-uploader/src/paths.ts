import { posix } from 'node:path';

/** Where a file goes: its directory, its final path and its temporary path. */
export interface RemoteTarget {
  dir: string;
  finalPath: string;
  tempPath: string;
}

/** Longest file name (one path segment) most servers accept, in bytes. */
export const NAME_MAX = 255;

/** Longest final file name: the temporary `.<name>.part` (and `.<name>.prev`) must fit NAME_MAX. */
export const MAX_BASENAME_BYTES = NAME_MAX - '..part'.length;

/** Where the previous file is kept while it is replaced without `posix-rename`. */
export function backupPath(target: RemoteTarget): string {
  return posix.join(target.dir, `.${posix.basename(target.finalPath)}.prev`);
}

/**
 * Checks a file name (relative, `/`-separated, no `..`/`.`/empty segment, no NUL) and returns
 * why it is refused, or `undefined` when it is fine.
 */
export function fileNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'it is empty';
  if (name.includes('\0')) return 'it contains a NUL character';
  if (name.startsWith('/')) return 'it is absolute (names are relative to remoteDir)';
  if (name.endsWith('/')) return 'it ends with "/"';
  const segments = name.split('/');
  for (const segment of segments) {
    if (segment === '') return 'it contains an empty path segment ("//")';
    if (segment === '.' || segment === '..') return `it contains a "${segment}" segment`;
    if (Buffer.byteLength(segment, 'utf8') > NAME_MAX) {
      return `a path segment is ${Buffer.byteLength(segment, 'utf8')} bytes long (UTF-8) and servers accept at most ${NAME_MAX}`;
    }
  }
  const base = Buffer.byteLength(segments[segments.length - 1] as string, 'utf8');
  if (base > MAX_BASENAME_BYTES) {
    return `its last segment is ${base} bytes long (UTF-8): at most ${MAX_BASENAME_BYTES} fit, because the temporary name ".<name>.part" must stay within the ${NAME_MAX}-byte limit of file names`;
  }
  return undefined;
}

/**
 * Resolves a (checked) file name against the remote directory. The temporary file lives in
 * the same directory as the final one (so the rename is atomic) and is hidden: `.<name>.part`.
 *
 * @example
 * remoteTarget('/in', 'a/b.csv') // { dir: '/in/a', finalPath: '/in/a/b.csv', tempPath: '/in/a/.b.csv.part' }
 */
export function remoteTarget(remoteDir: string, name: string): RemoteTarget {
  const finalPath = posix.normalize(posix.join(remoteDir === '' ? '.' : remoteDir, name));
  const dir = posix.dirname(finalPath);
  const tempPath = posix.join(dir, `.${posix.basename(finalPath)}.part`);
  return { dir, finalPath, tempPath };
}

/** The chain of directories to create for `dir`, outermost first (`a/b/c` → `a`, `a/b`, `a/b/c`). */
export function directoryChain(dir: string): string[] {
  const normalized = posix.normalize(dir);
  if (normalized === '.' || normalized === '/') return [];
  const chain: string[] = [];
  let current = normalized.replace(/\/+$/, '');
  while (current !== '.' && current !== '/' && current !== '') {
    chain.unshift(current);
    current = posix.dirname(current);
  }
  return chain;
}
