import { setImmediate } from 'node:timers/promises';

/** Longest run of work on the source between two turns of the event loop, in milliseconds. */
const YIELD_EVERY_MS = 10;

/**
 * Reads `source` ahead of its consumer into a queue of up to `limit` bytes, starting at once (not
 * on the consumer's first read). Used on the S3 body and on the converted CSV, so the download,
 * the conversion and the SFTP upload overlap instead of each waiting while another is busy.
 *
 * - Chunks are passed on as they came (no copy, no concatenation).
 * - Every {@link YIELD_EVERY_MS} of reading, the event loop gets a turn: a chain of generators
 *   reading a filled queue otherwise runs on microtasks only, and the SSH handshake and the SFTP
 *   acknowledgements would wait for whole bursts of conversion.
 * - An error of `source` (a failed GCM tag check, a mapping failure) is thrown to the consumer;
 *   it never sees the end of a failed source.
 * - `return()` (a `for await` left early, or the uploader discarding the body before reading it)
 *   stops reading and ends `source`.
 *
 * `limit` 0 returns `source` itself.
 */
export function readAhead<T extends Uint8Array>(
  source: AsyncIterable<T>,
  limit: number,
): AsyncIterableIterator<T> | AsyncIterable<T> {
  return limit === 0 ? source : new ReadAhead(source, limit);
}

class ReadAhead<T extends Uint8Array> implements AsyncIterableIterator<T> {
  readonly #it: AsyncIterator<T>;
  readonly #limit: number;
  readonly #queue: T[] = [];
  #queued = 0;
  #done = false;
  #stopped = false;
  #failure: { error: unknown } | undefined;
  /** Wakes the consumer waiting for a chunk. */
  #wake: (() => void) | undefined;
  /** Wakes the reader waiting for room. */
  #room: (() => void) | undefined;

  constructor(source: AsyncIterable<T>, limit: number) {
    this.#it = source[Symbol.asyncIterator]();
    this.#limit = limit;
    void this.#read();
  }

  async #read(): Promise<void> {
    let last = performance.now();
    try {
      while (!this.#stopped) {
        if (this.#queued >= this.#limit) {
          await new Promise<void>((resolve) => {
            this.#room = resolve;
          });
          continue;
        }
        const r = await this.#it.next();
        if (r.done || this.#stopped) break;
        this.#queue.push(r.value);
        this.#queued += r.value.length;
        this.#wakeConsumer();
        if (performance.now() - last >= YIELD_EVERY_MS) {
          await setImmediate();
          last = performance.now();
        }
      }
    } catch (error) {
      this.#failure = { error };
    }
    this.#done = true;
    if (this.#stopped) await this.#it.return?.().catch(() => undefined);
    this.#wakeConsumer();
  }

  #wakeConsumer(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  async next(): Promise<IteratorResult<T>> {
    for (;;) {
      const chunk = this.#queue.shift();
      if (chunk !== undefined) {
        this.#queued -= chunk.length;
        const room = this.#room;
        this.#room = undefined;
        room?.();
        return { done: false, value: chunk };
      }
      if (this.#failure !== undefined) throw this.#failure.error;
      if (this.#done || this.#stopped) return { done: true, value: undefined };
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }

  async return(): Promise<IteratorResult<T>> {
    if (!this.#stopped) {
      this.#stopped = true;
      this.#queue.length = 0;
      this.#queued = 0;
      const room = this.#room;
      this.#room = undefined;
      room?.();
      // A reader waiting on the source ends it once that read settles (see #read).
      if (this.#done) await this.#it.return?.().catch(() => undefined);
    }
    return { done: true, value: undefined };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
