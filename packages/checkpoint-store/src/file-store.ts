import { randomBytes } from 'node:crypto';
import {
  open,
  readdir,
  readFile,
  readlink,
  realpath,
  rename,
  stat,
  unlink,
} from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { z } from 'zod';
import { emptyShards, type ScopeState, SHARD_ID_PATTERN, StateCheckpointStore } from './core.js';
import {
  BackendError,
  CheckpointStoreError,
  InvalidArgumentError,
  StoreCorruptError,
} from './errors.js';
import { acquireFileLock } from './file-lock.js';
import type { FileCheckpointStoreOptions } from './types.js';

/** `format` value of a checkpoint file. */
export const FILE_FORMAT = 'connect-wfm-checkpoints';
/**
 * Newest layout version this release reads and writes. Version 2 adds a scope's `committed`
 * state (written by `commit()`); a file is written as version 1 while no scope holds one, so
 * older releases keep reading it.
 */
export const FILE_VERSION = 2;

const isoDate = z.iso.datetime();
const sequenceNumber = z
  .string()
  .regex(/^(0|[1-9][0-9]{0,128})$/)
  .nullable();
const checkpointEntry = z.strictObject({
  shardId: z.string().regex(SHARD_ID_PATTERN, {
    message: 'not a Kinesis shard id (1–128 characters of [a-zA-Z0-9_.-])',
  }),
  sequenceNumber,
  shardEnd: z.boolean(),
  updatedAt: isoDate,
});
const fileSchema = z.strictObject({
  format: z.literal(FILE_FORMAT),
  version: z.union([z.literal(1), z.literal(FILE_VERSION)]),
  scopes: z.array(
    z.strictObject({
      application: z.string(),
      stream: z.string(),
      lease: z
        .strictObject({
          owner: z.string().nullable(),
          token: z.number().int().nonnegative(),
          expiresAt: isoDate,
        })
        .nullable(),
      checkpoints: z.array(checkpointEntry),
      /** The last commit(): its state as JSON text, and the checkpoints right after it. */
      committed: z
        .strictObject({
          writtenAt: isoDate,
          checkpoints: z.array(checkpointEntry),
          state: z.string(),
        })
        .optional(),
    }),
  ),
});

type FileDocument = z.infer<typeof fileSchema>;
type FileScope = FileDocument['scopes'][number];

/** Orphaned temporary files older than this are removed (a write takes milliseconds). */
const ORPHAN_TMP_AGE_MS = 60_000;

/** Serialises operations on one path inside this process, before the cross-process lock. */
const pathQueues = new Map<string, Promise<unknown>>();

function isErrno(err: unknown, code: string): boolean {
  // not `instanceof Error`: errors of Node's core modules come from another realm under Jest
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}

/**
 * The embedded default backend: every checkpoint and lease in one JSON file, replaced
 * atomically at each write (temporary file, fsync, rename over the old one, fsync of the
 * directory), so the file is complete and never older than the last acknowledged write, even if
 * the process is killed at any instant. Writers in several processes are serialised by the
 * lock file `<path>.lock`; reads take no lock.
 *
 * One file can hold several (application, stream) scopes. Fencing: every write re-reads the
 * file under the lock and is refused with `LeaseLostError` unless the stored lease still carries
 * this instance's owner and token.
 *
 * @example
 * import { FileCheckpointStore } from '@connect-wfm/checkpoint-store';
 *
 * const store = new FileCheckpointStore({
 *   application: 'rta',
 *   stream: 'agent-events',
 *   path: '/var/lib/rta/checkpoints.json',
 * });
 * await store.put('shardId-000000000000', { sequenceNumber: '49590338271490256608559692538361571095921575989136588898' });
 * await store.close();
 */
export class FileCheckpointStore extends StateCheckpointStore {
  /** Absolute path of the JSON file, as given. */
  readonly path: string;
  /**
   * The file's real path (symbolic links resolved, once, at first use): the file that is read,
   * locked (`<realPath>.lock`) and replaced, so a link at `path` stays a link and every
   * spelling of one file shares one lock. See docs/kinesis-reader.md#checkpoint-files.
   */
  #realPath: Promise<string> | undefined;
  readonly #lockTimeoutMs: number;
  readonly #fsync: boolean;
  #cleanedOrphans = false;
  /** What this instance wrote last (see `#cachedDocument`). */
  #written: WrittenDocument | undefined;

  constructor(options: FileCheckpointStoreOptions) {
    super(options);
    if (typeof options.path !== 'string' || options.path.length === 0) {
      throw new InvalidArgumentError(
        `FileCheckpointStore for ${this.scope} needs a path to a JSON file, got ${String(options.path)}`,
      );
    }
    const timeout = options.lockTimeoutMs ?? 10_000;
    if (!Number.isInteger(timeout) || timeout < 0) {
      throw new InvalidArgumentError(
        `lockTimeoutMs must be a non-negative integer, got ${timeout}`,
      );
    }
    this.path = resolve(options.path);
    this.#lockTimeoutMs = timeout;
    this.#fsync = options.fsync ?? true;
  }

  /** Resolves {@link FileCheckpointStore.path} to the real file once (retried after a failure). */
  #real(): Promise<string> {
    this.#realPath ??= this.#io('resolve the checkpoint file path', () =>
      resolveRealPath(this.path),
    ).catch((err: unknown) => {
      this.#realPath = undefined;
      throw err;
    });
    return this.#realPath;
  }

  protected async readState(): Promise<ScopeState> {
    const real = await this.#real();
    return toScopeState(findScope(await this.#readDocument(real), this.application, this.stream));
  }

  protected async transact<T>(
    fn: (state: ScopeState, now: number) => { result: T; changed: boolean },
  ): Promise<T> {
    const real = await this.#real();
    const previous = pathQueues.get(real) ?? Promise.resolve();
    const run = previous.then(
      () => this.#transactLocked(real, fn),
      () => this.#transactLocked(real, fn),
    );
    const tail = run.catch(() => undefined);
    pathQueues.set(real, tail);
    try {
      return await run;
    } finally {
      if (pathQueues.get(real) === tail) pathQueues.delete(real);
    }
  }

  async #transactLocked<T>(
    real: string,
    fn: (state: ScopeState, now: number) => { result: T; changed: boolean },
  ): Promise<T> {
    const lock = await this.#io('take the lock file', () =>
      acquireFileLock(`${real}.lock`, this.#lockTimeoutMs, this.logger),
    );
    try {
      if (!this.#cleanedOrphans) {
        this.#cleanedOrphans = true;
        await this.#removeOrphans(real);
      }
      // The document this instance wrote last, when the file is still that one: its committed
      // states stay in the file (ranges), so a lease renewal neither reads nor parses them.
      const cached = await this.#cachedDocument(real);
      const doc = cached?.doc ?? (await this.#readDocument(real));
      const state = toScopeState(findScope(doc, this.application, this.stream));
      const { result, changed } = fn(state, this.clock());
      if (changed) {
        const scopes = doc.scopes.filter(
          (s) => !(s.application === this.application && s.stream === this.stream),
        );
        scopes.push(fromScopeState(this.application, this.stream, state));
        scopes.sort((a, b) =>
          a.application === b.application
            ? compareText(a.stream, b.stream)
            : compareText(a.application, b.application),
        );
        const version = scopes.some((s) => s.committed !== undefined) ? FILE_VERSION : 1;
        await this.#writeDocument(real, { format: FILE_FORMAT, version, scopes }, cached);
      }
      return result;
    } finally {
      await lock.release();
    }
  }

  async #readDocument(real: string): Promise<FileDocument> {
    let text: string;
    try {
      text = await readFile(real, 'utf8');
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return { format: FILE_FORMAT, version: 1, scopes: [] };
      throw new BackendError(
        `could not read the checkpoint file ${this.#label(real)}: ${errorText(err)}`,
        {
          cause: err,
        },
      );
    }
    // A byte order mark (an editor's, e.g. Notepad's) is accepted; the next write drops it.
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new StoreCorruptError(
        `the checkpoint file ${this.#label(real)} is not valid JSON (${text.length} characters; ${jsonErrorWhere(err, text)}); it was not written by this store. Restore it from a backup or move it away to start without checkpoints.`,
        { cause: err },
      );
    }
    const parsed = fileSchema.safeParse(json);
    if (!parsed.success) {
      const first = parsed.error.issues
        .slice(0, 3)
        .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
        .join('; ');
      throw new StoreCorruptError(
        `the checkpoint file ${this.#label(real)} does not have the layout of ${FILE_FORMAT} version ${FILE_VERSION} (${first}). Restore it from a backup, or upgrade @connect-wfm/checkpoint-store if a newer version wrote it.`,
        { cause: parsed.error },
      );
    }
    return parsed.data;
  }

  /** The cached document when the file is still the one this instance wrote last. */
  async #cachedDocument(real: string): Promise<WrittenDocument | undefined> {
    const cached = this.#written;
    if (cached === undefined) return undefined;
    try {
      const st = await stat(real, { bigint: true });
      if (fileIdentity(st) === cached.identity) return cached;
    } catch {
      // missing or unreadable: read it the ordinary way (which reports the problem)
    }
    this.#written = undefined;
    return undefined;
  }

  /**
   * Writes `doc` to a temporary file, then renames it over `real`. The committed states (large:
   * an RTA state of 50,000 agents is ~17 MB of JSON) are never put into one big JSON text: each
   * is escaped and written in slices, or, when unchanged since `previous` was written, copied
   * byte for byte from the old file; their byte ranges are remembered for the next write.
   */
  async #writeDocument(
    real: string,
    doc: FileDocument,
    previous: WrittenDocument | undefined,
  ): Promise<void> {
    const tmp = `${real}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    this.#written = undefined;
    const written = await this.#io('write the checkpoint file', async () => {
      try {
        // 'wx': never follow or reuse something planted at the temporary name
        const fh = await open(tmp, 'wx', 0o644);
        let identity: string;
        const ranges: Array<{ start: number; end: number }> = [];
        try {
          const marker = `@@connect-wfm-state-${randomBytes(8).toString('hex')}-`;
          const states: string[] = [];
          const skeleton: FileDocument = {
            ...doc,
            scopes: doc.scopes.map((scope) => {
              if (scope.committed === undefined) return scope;
              states.push(scope.committed.state);
              return {
                ...scope,
                committed: { ...scope.committed, state: `${marker}${states.length - 1}` },
              };
            }),
          };
          const parts = `${JSON.stringify(skeleton, null, 2)}\n`.split(
            new RegExp(`"${marker}(\\d+)"`),
          );
          let offset = 0;
          const put = async (text: string | Buffer): Promise<void> => {
            const buf = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
            let done = 0;
            while (done < buf.length) {
              const { bytesWritten } = await fh.write(buf, done, buf.length - done);
              done += bytesWritten;
            }
            offset += buf.length;
          };
          for (let i = 0; i < parts.length; i += 1) {
            if (i % 2 === 0) {
              await put(parts[i] ?? '');
              continue;
            }
            const text = states[Number(parts[i])] ?? '';
            const start = offset;
            const range = previous === undefined ? undefined : rangeOf(text);
            if (range !== undefined && previous !== undefined) {
              await copyRange(real, previous.identity, range, put);
            } else {
              await put('"');
              for (let at = 0; at < text.length; at += WRITE_SLICE) {
                await put(JSON.stringify(text.slice(at, at + WRITE_SLICE)).slice(1, -1));
              }
              await put('"');
            }
            ranges.push({ start, end: offset });
          }
          if (this.#fsync) await fh.sync();
          identity = fileIdentity(await fh.stat({ bigint: true }));
        } finally {
          await fh.close();
        }
        await rename(tmp, real);
        const cachedDoc: FileDocument = {
          ...doc,
          scopes: [],
        };
        let n = 0;
        for (const scope of doc.scopes) {
          if (scope.committed === undefined) {
            cachedDoc.scopes.push(scope);
            continue;
          }
          const range = ranges[n];
          n += 1;
          cachedDoc.scopes.push({
            ...scope,
            committed: {
              ...scope.committed,
              state: range === undefined ? scope.committed.state : rangeRef(range),
            },
          });
        }
        return { identity, doc: cachedDoc };
      } catch (err) {
        await unlink(tmp).catch(() => undefined);
        throw err;
      }
    });
    if (this.#fsync)
      await this.#io('write the checkpoint file', () => syncDirectory(dirname(real)));
    this.#written = written;
  }

  /** The path for messages: the given one, and the real one when a link leads elsewhere. */
  #label(real: string): string {
    return real === this.path ? this.path : `${this.path} (real path ${real})`;
  }

  async #removeOrphans(real: string): Promise<void> {
    const dir = dirname(real);
    const prefix = `${basename(real)}.`;
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return;
    }
    for (const name of names) {
      if (!name.startsWith(prefix) || !name.endsWith('.tmp')) continue;
      const file = resolve(dir, name);
      try {
        if (Date.now() - (await stat(file)).mtimeMs > ORPHAN_TMP_AGE_MS) {
          await unlink(file);
          this.logger.info('removed an orphaned temporary checkpoint file', { file });
        }
      } catch {
        // gone already
      }
    }
  }

  async #io<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof CheckpointStoreError) throw err;
      throw new BackendError(
        `could not ${what} (${this.path}) for ${this.scope}: ${errorText(err)}. Check that the directory exists and is writable.`,
        { cause: err },
      );
    }
  }

  protected describeBackend(): string {
    return `the checkpoint file ${this.path}`;
  }

  protected async doClose(): Promise<void> {}
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

/** Where JSON.parse failed (`position N`, `line L column C`), without quoting the content. */
function jsonErrorWhere(err: unknown, text: string): string {
  const message = errorText(err);
  const position = /position (\d+)/.exec(message)?.[1];
  if (position !== undefined) {
    const before = text.slice(0, Number(position));
    const line = before.split('\n').length;
    const column = Number(position) - before.lastIndexOf('\n');
    return `parse error at character ${position}, line ${line} column ${column}`;
  }
  const lineColumn = /line (\d+) column (\d+)/.exec(message);
  if (lineColumn !== null) return `parse error at line ${lineColumn[1]} column ${lineColumn[2]}`;
  return text.trim().length === 0 ? 'the file is empty' : 'parse error';
}

async function syncDirectory(dir: string): Promise<void> {
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

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function errorText(err: unknown): string {
  return typeof err === 'object' && err !== null && 'message' in err
    ? String((err as { message: unknown }).message)
    : String(err);
}

/** Committed states are escaped and written in slices of this many characters. */
const WRITE_SLICE = 1 << 20;

/**
 * A document as this instance wrote it, with the file's identity. A committed state in it may be
 * a reference to its bytes in that file (`rangeRef`) instead of its text: never JSON text, which
 * cannot start with NUL.
 */
interface WrittenDocument {
  readonly identity: string;
  readonly doc: FileDocument;
}

const RANGE_PREFIX = '\u0000file-range:';

function rangeRef(range: { start: number; end: number }): string {
  return `${RANGE_PREFIX}${range.start}:${range.end}`;
}

function rangeOf(text: string): { start: number; end: number } | undefined {
  if (!text.startsWith(RANGE_PREFIX)) return undefined;
  const [start, end] = text.slice(RANGE_PREFIX.length).split(':').map(Number);
  return start === undefined || end === undefined ? undefined : { start, end };
}

/** Device, inode, size and modification time: a file replaced or changed gets another. */
function fileIdentity(st: { dev: bigint; ino: bigint; size: bigint; mtimeNs: bigint }): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}`;
}

/** Copies bytes [start, end) of the file at `path` (still `identity`) through `put`, 1 MB at a time. */
async function copyRange(
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

function findScope(doc: FileDocument, application: string, stream: string): FileScope | undefined {
  return doc.scopes.find((s) => s.application === application && s.stream === stream);
}

type FileCheckpoint = FileScope['checkpoints'][number];

function toShards(entries: readonly FileCheckpoint[]): ScopeState['shards'] {
  const shards = emptyShards();
  for (const cp of entries) {
    shards[cp.shardId] = {
      sequenceNumber: cp.sequenceNumber,
      shardEnd: cp.shardEnd,
      updatedAt: Date.parse(cp.updatedAt),
    };
  }
  return shards;
}

function fromShards(shards: ScopeState['shards']): FileCheckpoint[] {
  return Object.keys(shards)
    .sort(compareText)
    .map((shardId) => {
      const rec = shards[shardId];
      return {
        shardId,
        sequenceNumber: rec?.sequenceNumber ?? null,
        shardEnd: rec?.shardEnd ?? false,
        updatedAt: new Date(rec?.updatedAt ?? 0).toISOString(),
      };
    });
}

function toScopeState(scope: FileScope | undefined): ScopeState {
  if (scope === undefined) return { shards: emptyShards(), lease: null };
  const shards = toShards(scope.checkpoints);
  const lease =
    scope.lease === null
      ? null
      : {
          owner: scope.lease.owner,
          token: scope.lease.token,
          expiresAt: Date.parse(scope.lease.expiresAt),
        };
  const state: ScopeState = { shards, lease };
  if (scope.committed !== undefined) {
    state.committed = {
      state: scope.committed.state,
      shards: toShards(scope.committed.checkpoints),
      writtenAt: Date.parse(scope.committed.writtenAt),
    };
  }
  return state;
}

function fromScopeState(application: string, stream: string, state: ScopeState): FileScope {
  const scope: FileScope = {
    application,
    stream,
    lease:
      state.lease === null
        ? null
        : {
            owner: state.lease.owner,
            token: state.lease.token,
            expiresAt: new Date(state.lease.expiresAt).toISOString(),
          },
    checkpoints: fromShards(state.shards),
  };
  if (state.committed !== undefined) {
    scope.committed = {
      writtenAt: new Date(state.committed.writtenAt).toISOString(),
      checkpoints: fromShards(state.committed.shards),
      state: state.committed.state,
    };
  }
  return scope;
}
