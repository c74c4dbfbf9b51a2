import type { BadRecordReason } from './types.js';

/**
 * A cached byte-pattern search over the scanner's buffer (the scanner's record-end guesses).
 */

/**
 * The next occurrence of a byte pattern at or after a position in the scanner's buffer, cached so
 * that a buffer is searched once however many records ask: a record asks from its own start, and
 * the answer stays valid until the position passes it.
 */
export class NextMatch {
  /** Index found by the last search (-1: none up to `to`; -2: no search yet). */
  private at = -2;
  /** Where the last search started, and the buffer length it covered. */
  private from = 0;
  private to = 0;

  constructor(
    private readonly needle: number | Buffer,
    private readonly width: number,
  ) {}

  /** Index of the first match at or after `from` in `buf[0, n)`, or -1. */
  find(buf: Buffer, n: number, from: number): number {
    const at = this.at;
    if (at >= from && from >= this.from) return at;
    const known = at === -1 && from >= this.from;
    if (known && this.to === n) return -1;
    // After a miss, only the bytes added since (plus a pattern's overlap) need a look.
    const searchFrom = known ? Math.max(from, this.to - (this.width - 1)) : from;
    this.at = buf.indexOf(this.needle, searchFrom);
    this.from = from;
    this.to = n;
    return this.at;
  }

  /** The buffer lost its first `by` bytes. */
  shift(by: number): void {
    if (this.at !== -1) this.at = this.at >= by ? this.at - by : -2;
    this.from = Math.max(0, this.from - by);
    this.to = Math.max(0, this.to - by);
  }

  /** The buffer was replaced by one whose first match is `at` (-1: none in its `n` bytes). */
  seed(at: number, n: number): void {
    this.at = at;
    this.from = 0;
    this.to = n;
  }

  /** The buffer was replaced. */
  reset(): void {
    this.at = -2;
    this.from = 0;
    this.to = 0;
  }
}

/**
 * The `{` of failed attempts that would fail again the same way, by stream offset, each with the
 * failure it shares. Looked up at increasing offsets; pruned as the search moves past them.
 */
export class DeadMarks {
  private readonly marks = new Map<number, number>();
  private readonly why: Array<{ reason: BadRecordReason; detail: string }> = [];
  private pruneAt = 4096;

  /** Whether there is any mark (a cheap test before {@link take}). */
  get size(): number {
    return this.marks.size;
  }

  /** Marks `offsets` as dead, all with one failure. */
  mark(offsets: readonly number[], from: number, reason: BadRecordReason, detail: string): void {
    if (from >= offsets.length) return;
    const why = this.why.length;
    this.why.push({ reason, detail });
    for (let k = from; k < offsets.length; k++) this.marks.set(offsets[k] as number, why);
  }

  /** The failure of the dead `{` at stream offset `at` (forgetting it), or undefined if alive. */
  take(at: number): { reason: BadRecordReason; detail: string } | undefined {
    const why = this.marks.get(at);
    if (why === undefined) {
      if (this.marks.size > this.pruneAt) this.prune(at);
      return undefined;
    }
    this.marks.delete(at);
    const found = this.why[why];
    if (this.marks.size === 0) this.why.length = 0;
    return found;
  }

  /** Forgets marks before `at` (the search has passed them); linear in total. */
  private prune(at: number): void {
    for (const k of this.marks.keys()) if (k < at) this.marks.delete(k);
    if (this.marks.size === 0) this.why.length = 0;
    this.pruneAt = Math.max(4096, 2 * this.marks.size);
  }
}
