import { randomBytes } from 'node:crypto';
import { open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { type ScopeState, StateCheckpointStore } from './core.js';
import {
  BackendError,
  CheckpointStoreError,
  InvalidArgumentError,
  LockLostError,
  StoreCorruptError,
} from './errors.js';
import {
  compareText,
  errorText,
  FILE_FORMAT,
  FILE_VERSION,
  type FileDocument,
  fileSchema,
  findScope,
  fromScopeState,
  jsonErrorWhere,
  toScopeState,
} from './file-document.js';
import {
  copyRange,
  fileIdentity,
  isErrno,
  pendingRef,
  rangeOf,
  rangeRef,
  resolveRealPath,
  syncDirectory,
  WRITE_SLICE,
  type WrittenDocument,
} from './file-io.js';
import { acquireFileLock, type HeldLock } from './file-lock.js';
import { assertJsonValue, jsonChunks } from './json-chunks.js';
import type { Fence, NormalizedUpdate } from './scope-state.js';
import type { FileCheckpointStoreOptions } from './types.js';

export { FILE_FORMAT, FILE_VERSION } from './file-document.js';

/** A state given to `commit()` is escaped and written in slices of about this many characters. */
const STREAM_SLICE = 64 * 1024;

/** Orphaned temporary files older than this are removed (a write takes milliseconds). */
const ORPHAN_TMP_AGE_MS = 60_000;

/** Serialises operations on one path inside this process, before the cross-process lock. */
const pathQueues = new Map<string, Promise<unknown>>();

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
  readonly #lockHungMs: number;
  readonly #fsync: boolean;
  #cleanedOrphans = false;
  /**
   * States given to `commit()` and not written yet, by the reference (`pendingRef`) that stands
   * for their text in the document until `#writeDocument` streams their JSON into the file.
   */
  readonly #pending = new Map<string, unknown>();
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
    const hung = options.lockHungMs ?? 5_000;
    if (!Number.isInteger(hung) || hung <= 0) {
      throw new InvalidArgumentError(`lockHungMs must be a positive integer, got ${hung}`);
    }
    this.path = resolve(options.path);
    this.#lockTimeoutMs = timeout;
    this.#lockHungMs = hung;
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

  /**
   * The state is not turned into one JSON string: `#writeDocument` writes its JSON text piece by
   * piece (`jsonChunks`), so a commit of a large state needs no second copy of it in memory.
   */
  protected override stateText(state: unknown): string {
    assertJsonValue(this.scope, state);
    const ref = pendingRef();
    this.#pending.set(ref, state);
    return ref;
  }

  protected override async doCommit(
    updates: ReadonlyArray<readonly [string, NormalizedUpdate]>,
    stateJson: string,
    fence: Fence | undefined,
  ): Promise<void> {
    try {
      await super.doCommit(updates, stateJson, fence);
    } finally {
      this.#pending.delete(stateJson);
    }
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
      acquireFileLock(`${real}.lock`, this.#lockTimeoutMs, this.logger, this.#lockHungMs),
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
        await this.#writeDocument(real, { format: FILE_FORMAT, version, scopes }, cached, lock);
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
    lock: HeldLock,
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
            } else if (this.#pending.has(text)) {
              // a state given to commit(): its JSON text, escaped, in slices as it is produced
              await put('"');
              let slice = '';
              for (const piece of jsonChunks(this.scope, this.#pending.get(text))) {
                slice += piece;
                if (slice.length >= STREAM_SLICE) {
                  await put(JSON.stringify(slice).slice(1, -1));
                  slice = '';
                }
              }
              await put(`${JSON.stringify(slice).slice(1, -1)}"`);
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
        // Taken over as hung while this process was stopped: the file may be another's by now.
        if (!(await lock.verify())) {
          throw new LockLostError(
            `the checkpoint file lock ${real}.lock was taken over by another process while ${this.scope} held it longer than lockHungMs (${this.#lockHungMs} ms; was this process stopped or frozen?); this write was discarded, nothing was changed. Retry.`,
          );
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
