import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import { controlCharacterProblem } from './text.js';

/** Where a file goes: its directory, its final path and its last path segment. */
export interface RemoteTarget {
  dir: string;
  finalPath: string;
  /** The last segment of the name (the file name proper). */
  base: string;
}

/** Longest file name (one path segment) most servers accept, in bytes. */
export const NAME_MAX = 255;

/** Random characters in a temporary or backup name (96 bits, base64url). */
const RANDOM_CHARS = 16;

/** Bytes a temporary name adds around the (possibly shortened) file name: `.` `.` random `.part`. */
const TEMP_OVERHEAD = 2 + RANDOM_CHARS + '.part'.length;

/**
 * Checks a file name (relative, `/`-separated, no `..`/`.`/empty segment, no control character)
 * and returns why it is refused, or `undefined` when it is fine.
 */
export function fileNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'it is empty';
  if (name.includes('\0')) return 'it contains a NUL character';
  const control = controlCharacterProblem(name);
  if (control !== undefined) return control;
  if (name.startsWith('/')) return 'it is absolute (names are relative to remoteDir)';
  if (name.endsWith('/')) return 'it ends with "/"';
  for (const segment of name.split('/')) {
    if (segment === '') return 'it contains an empty path segment ("//")';
    if (segment === '.' || segment === '..') return `it contains a "${segment}" segment`;
    if (Buffer.byteLength(segment, 'utf8') > NAME_MAX) {
      return `a path segment is ${Buffer.byteLength(segment, 'utf8')} bytes long (UTF-8) and servers accept at most ${NAME_MAX}`;
    }
  }
  return undefined;
}

/**
 * Resolves a (checked) file name against the remote directory.
 *
 * @example
 * remoteTarget('/in', 'a/b.csv') // { dir: '/in/a', finalPath: '/in/a/b.csv', base: 'b.csv' }
 */
export function remoteTarget(remoteDir: string, name: string): RemoteTarget {
  const finalPath = posix.normalize(posix.join(remoteDir === '' ? '.' : remoteDir, name));
  return { dir: posix.dirname(finalPath), finalPath, base: posix.basename(finalPath) };
}

/** `text` cut to at most `maxBytes` of UTF-8, on a character boundary. */
function utf8Prefix(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  let out = '';
  let bytes = 0;
  for (const ch of text) {
    const size = Buffer.byteLength(ch, 'utf8');
    if (bytes + size > maxBytes) break;
    out += ch;
    bytes += size;
  }
  return out;
}

/**
 * A fresh, unpredictable hidden name beside the final file: `.<name>.<16 random chars>.<kind>`
 * (the file name shortened when needed, so the whole fits {@link NAME_MAX} bytes). `part` for the
 * temporary file, `prev` for the previous version moved aside during a replace. Nobody can plant
 * a link there in advance, and no user file of an older fixed pattern (`.<name>.part`) is ever
 * touched. See DESIGN.md#temporary-names.
 *
 * @example
 * siblingName(remoteTarget('/in', 'b.csv'), 'part') // '/in/.b.csv.Xq3…Z9.part'
 */
export function siblingName(target: RemoteTarget, kind: 'part' | 'prev'): string {
  const random = randomBytes((RANDOM_CHARS / 4) * 3).toString('base64url');
  const stem = utf8Prefix(target.base, NAME_MAX - TEMP_OVERHEAD);
  return posix.join(target.dir, `.${stem}.${random}.${kind}`);
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
