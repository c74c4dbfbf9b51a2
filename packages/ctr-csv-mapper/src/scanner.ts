import { isUtf8 } from 'node:buffer';
import { FAST_DONE, FAST_WAIT, RecordWindow, type ScanSink } from './fast-path.js';
import { DeadMarks } from './next-match.js';
import {
  BSLASH,
  CLOSE,
  COLON,
  COMMA,
  EMPTY,
  ESC_U,
  LBRACK,
  OPEN,
  QUOTE,
  WS,
} from './scan-bytes.js';
import type { BadRecordReason } from './types.js';

export { DEFAULT_MAX_BAD_BYTES } from './bad-region.js';
export type { ScannerOptions, ScanSink } from './fast-path.js';

/**
 * The record splitter: a push scanner over the decompressed bytes of a Firehose object.
 *
 * It finds record boundaries with a tight loop over bytes that tracks only string/escape state,
 * brace depth and the previous significant byte outside strings, then hands each complete record
 * to `JSON.parse`. It never builds values itself and never splits on the text `}{` (the fast
 * path only uses it as a guess that `JSON.parse` then confirms).
 *
 * Recovery rule (documented in the README): when a record attempt turns out malformed (JSON.parse
 * fails, the structure check fails early, the input ends inside it, or it grows beyond
 * `maxRecordBytes`), a bad region starts at that attempt's first byte. The scanner then retries
 * at every later `{` byte, each time with fresh state, and the bad region ends at the first
 * attempt that parses as a JSON object with an own `ContactId` key. Parsed objects without
 * `ContactId` met while in a bad region are fragments of it. Memory is bounded by
 * `maxRecordBytes` plus one input chunk.
 */

const NEED_MORE = -1;
/** Bytes of a string the byte scanner examines itself before it asks `indexOf` for the quote. */
const SHORT_STRING = 64;
const INVALID = -2;

export class FirehoseScanner extends RecordWindow {
  private depth = 0;
  private inStr = false;
  private prev = 0;
  private failDetail = '';
  /**
   * Open objects of failed attempts, by stream offset, each with the failure it shares (an index
   * into {@link deadWhy}). An attempt at one of them would meet the same failure at the same
   * byte, so it is not scanned again: this keeps recovery linear (see {@link failAttempt}).
   */
  private readonly dead = new DeadMarks();
  /** Stream offsets of the `{` still open in the current attempt, outermost first from `stackBottom`. */
  private stack: number[] = [];
  private stackBottom = 0;

  /**
   * Bytes examined by the byte scanner and by `JSON.parse` on the slow path, in total: a measure
   * of work that a test can compare across input sizes (recovery must stay linear).
   */
  workBytes = 0;

  /** Feeds a chunk; complete items are appended to `out`. */
  push(chunk: Buffer, out: ScanSink): void {
    if (chunk.length === 0) return;
    if (this.buf.length === 0) this.buf = chunk;
    else if (!this.finishSpanning(chunk, out)) this.buf = Buffer.concat([this.buf, chunk]);
    this.checkUtf8();
    this.run(false, out);
    this.compact();
  }

  /**
   * Delivers every record already complete in the buffer (the input failed; what follows is
   * unknown, so an unfinished record is neither delivered nor reported).
   */
  drain(out: ScanSink): void {
    this.run(false, out, true);
  }

  /** Ends the input: a record still open is truncated; an open bad region is flushed. */
  end(out: ScanSink): void {
    this.run(true, out);
    if (this.bad.start >= 0)
      out.bad(this.bad.close(this.base + this.buf.length, this.buf, this.base));
    this.base += this.buf.length;
    this.buf = EMPTY;
    this.pos = 0;
    this.attempt = -1;
  }

  private run(eof: boolean, out: ScanSink, noWait = false): void {
    const buf = this.buf;
    const n = buf.length;
    if (!this.bomChecked) {
      if (n < 3 && !eof) return;
      this.bomChecked = true;
      if (this.base === 0 && n >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) {
        this.pos = 3;
      }
    }
    for (;;) {
      if (this.attempt < 0) {
        let i = this.pos;
        if (this.bad.start < 0) {
          while (i < n && WS[buf[i] as number] === 1) i++;
          if (i >= n) {
            this.pos = n;
            break;
          }
          if (buf[i] !== OPEN) {
            this.enterBad(i, 'invalid-json', 'unexpected bytes between records (expected "{")');
            this.pos = i + 1;
            continue;
          }
          if (this.dead.size > 0 && this.isDead(i)) continue;
          const fast = this.guessRecord(buf, n, i, eof, out);
          if (fast === FAST_DONE) continue;
          if (fast === FAST_WAIT && !noWait) {
            this.pos = i;
            break;
          }
        } else {
          i = buf.indexOf(OPEN, i);
          while (i >= 0 && this.dead.size > 0 && this.isDead(i)) i = buf.indexOf(OPEN, i + 1);
          if (i < 0) {
            this.pos = n;
            break;
          }
        }
        this.attempt = i;
        this.pos = i;
        this.depth = 0;
        this.inStr = false;
        this.prev = 0;
        this.stack.length = 0;
        this.stackBottom = 0;
      }
      const end = this.scan(buf, n);
      if (end === NEED_MORE) {
        if (eof) {
          this.failAttempt('truncated', 'the input ended inside this record');
          continue;
        }
        if (n - this.attempt > this.maxRecordBytes) {
          this.tooLarge();
          continue;
        }
        break;
      }
      if (end === INVALID) {
        this.failAttempt('invalid-json', this.failDetail);
        continue;
      }
      this.complete(buf, end, out);
    }
    if (this.bad.start >= 0) this.bad.capture(buf, this.base);
  }

  /** Advances the current attempt. Returns the end index (exclusive), NEED_MORE or INVALID. */
  private scan(buf: Buffer, n: number): number {
    let i = this.pos;
    const from = i;
    const stack = this.stack;
    const base = this.base;
    let depth = this.depth;
    let inStr = this.inStr;
    let prev = this.prev;
    while (i < n) {
      if (inStr) {
        // Most strings are short: a byte loop finds their end sooner than a native indexOf call
        // per string (its call cost dominated records scanned here); long ones go to indexOf.
        let q = i;
        const lim = Math.min(i + SHORT_STRING, n);
        while (q < lim && buf[q] !== QUOTE) q++;
        if (q === lim) q = lim < n ? buf.indexOf(QUOTE, lim) : -1;
        if (q < 0) {
          i = n;
          break;
        }
        let k = q - 1;
        while (buf[k] === BSLASH) k--;
        i = q + 1;
        if (((q - 1 - k) & 1) === 0) {
          inStr = false;
          prev = QUOTE;
        }
        continue;
      }
      const c = buf[i] as number;
      if (c === QUOTE) {
        if (prev !== OPEN && prev !== COMMA && prev !== COLON && prev !== LBRACK) {
          this.failDetail = `unexpected '"' at byte ${this.base + i}`;
          this.workBytes += i + 1 - from;
          return INVALID;
        }
        inStr = true;
      } else if (c === OPEN) {
        if (depth > 0 && prev !== COLON && prev !== COMMA && prev !== LBRACK) {
          this.failDetail = `unexpected '{' at byte ${this.base + i}`;
          this.workBytes += i + 1 - from;
          return INVALID;
        }
        depth++;
        stack.push(base + i);
        prev = c;
      } else if (c === CLOSE) {
        depth--;
        stack.pop();
        if (depth === 0) {
          this.workBytes += i + 1 - from;
          return i + 1;
        }
        prev = c;
      } else if (WS[c] !== 1) {
        prev = c;
      }
      i++;
    }
    this.workBytes += i - from;
    this.pos = i;
    this.depth = depth;
    this.inStr = inStr;
    this.prev = prev;
    return NEED_MORE;
  }

  /** The current attempt is malformed: open (or continue) a bad region and retry after its `{`. */
  private fail(reason: BadRecordReason, detail: string): void {
    const start = this.attempt;
    if (this.bad.start < 0) this.enterBad(start, reason, detail);
    this.attempt = -1;
    this.pos = start + 1;
  }

  /**
   * The byte scanner found the current attempt malformed at the byte it stopped on (or the input
   * ended inside it). Every `{` still open inside the attempt starts an object that would meet
   * the same byte in the same state, so it would fail the same way: it is marked dead and never
   * scanned again. Without this, unclosed nesting (`{"a":{"a":...`) was rescanned from each of
   * its `{`, quadratic in its length. Objects that closed inside the attempt, and `{` inside its
   * strings, are still tried (docs/historical-formats.md#recovery).
   */
  private failAttempt(reason: BadRecordReason, detail: string): void {
    const stack = this.stack;
    this.dead.mark(stack, this.stackBottom + 1, reason, detail);
    stack.length = 0;
    this.stackBottom = 0;
    this.fail(reason, detail);
  }

  /**
   * The current attempt grew past maxRecordBytes. Its outermost `{` fails; the next `{` still
   * open inside it (if any) continues the same scan as the new attempt, with one level less,
   * instead of being rescanned from its start.
   */
  private tooLarge(): void {
    const detail = `no record end within maxRecordBytes (${this.maxRecordBytes} bytes)`;
    const start = this.attempt;
    if (this.bad.start < 0) this.enterBad(start, 'too-large', detail);
    const stack = this.stack;
    if (stack.length - this.stackBottom > 1) {
      this.stackBottom++;
      this.attempt = (stack[this.stackBottom] as number) - this.base;
      this.depth--;
      return;
    }
    stack.length = 0;
    this.stackBottom = 0;
    this.attempt = -1;
    this.pos = start + 1;
  }

  /**
   * Whether the `{` at buffer index `i` is dead (see {@link failAttempt}); if so, it opens or
   * extends the bad region, and the search moves past it.
   */
  private isDead(i: number): boolean {
    const w = this.dead.take(this.base + i);
    if (w === undefined) return false;
    if (this.bad.start < 0) this.enterBad(i, w.reason, w.detail);
    this.pos = i + 1;
    return true;
  }

  /**
   * A complete span that is not a record (invalid JSON or UTF-8): the whole span is bad. Its inner
   * objects are not tried one by one (parsing each nested level again is quadratic).
   */
  private failSpan(end: number, reason: BadRecordReason, detail: string): void {
    const start = this.attempt;
    if (this.bad.start < 0) this.enterBad(start, reason, detail);
    this.attempt = -1;
    this.pos = end;
  }

  private complete(buf: Buffer, end: number, out: ScanSink): void {
    const start = this.attempt;
    const slice = buf.subarray(start, end);
    if (end > this.utf8ValidTo && !isUtf8(slice)) {
      this.failSpan(end, 'invalid-utf8', 'the record is not valid UTF-8');
      return;
    }
    const bytes = this.byteStrings && slice.indexOf(ESC_U) < 0;
    this.workBytes += end - start;
    let parsed: unknown;
    try {
      parsed = JSON.parse(slice.toString(bytes ? 'latin1' : 'utf8'));
    } catch (err) {
      this.failSpan(end, 'invalid-json', err instanceof Error ? err.message : String(err));
      return;
    }
    const obj = parsed as Record<string, unknown>;
    this.attempt = -1;
    if (this.bad.start >= 0 && !Object.hasOwn(obj, 'ContactId')) {
      // A fragment of the bad region (e.g. a nested object of a truncated record), skipped whole.
      this.pos = end;
      return;
    }
    this.pos = end;
    this.accept(obj, start, end, buf, out, bytes);
  }

  /** Opens a bad region at buffer index `index`. */
  private enterBad(index: number, reason: BadRecordReason, detail: string): void {
    this.bad.open(this.base + index, reason, detail, this.buf, this.base);
  }
}
