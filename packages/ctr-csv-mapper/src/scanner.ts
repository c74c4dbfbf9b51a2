import { isUtf8 } from 'node:buffer';
import { DeadMarks, NextMatch } from './next-match.js';
import { ctrSchema, describeIssues, passesCtrFastCheck } from './schema.js';
import type { BadRecordReason, CtrRecord, FirehoseBadItem } from './types.js';

/** Where the scanner delivers what it finds, in input order. */
export interface ScanSink {
  /**
   * A valid CTR: the typed view, the whole parsed object, its offset and length. `bytes` is true
   * when its strings hold UTF-8 bytes one per character (see {@link ScannerOptions.byteStrings}).
   */
  record(
    record: CtrRecord,
    raw: Record<string, unknown>,
    offset: number,
    length: number,
    bytes: boolean,
  ): void;
  /** A bad record or bad region. */
  bad(item: FirehoseBadItem): void;
}

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

const OPEN = 0x7b; // {
const CLOSE = 0x7d; // }
const QUOTE = 0x22; // "
const BSLASH = 0x5c; // \
const COLON = 0x3a; // :
const COMMA = 0x2c; // ,
const LBRACK = 0x5b; // [

const WS = new Uint8Array(256);
WS[0x20] = 1;
WS[0x09] = 1;
WS[0x0a] = 1;
WS[0x0d] = 1;

/** `end` moved back over whitespace, not before `start`. */
function trimEnd(buf: Buffer, start: number, end: number): number {
  let e = end;
  while (e > start && WS[buf[e - 1] as number] === 1) e--;
  return e;
}

const NEED_MORE = -1;
const FAST_DONE = 0;
const FAST_WAIT = 1;
const FAST_FALLBACK = 2;
/** The fast path parsed its guessed span and it was not a record (e.g. `}{` inside a string). */
const FAST_MISS = 3;
/**
 * After this many records in a row whose guessed end was wrong, the fast path is skipped for the
 * next {@link GUESS_SKIP_RECORDS} records (then tried again). A wrong guess costs a failed
 * `JSON.parse` of most of the record (and its exception) before the byte scanner runs anyway: an
 * object whose every record holds `}{` in a string converted about 4x slower than one without.
 */
const GUESS_MISS_LIMIT = 8;
const GUESS_SKIP_RECORDS = 256;
/** Bytes of a string the byte scanner examines itself before it asks `indexOf` for the quote. */
const SHORT_STRING = 64;
/** How the records seen so far ended: not known yet, at `}{`, or at a newline. */
const UNKNOWN = 0;
const CONCATENATED = 1;
const NEWLINE = 2;
const INVALID = -2;
const PREVIEW_BYTES = 200;
/** Default bound on the bytes a bad item carries. */
export const DEFAULT_MAX_BAD_BYTES = 1024 * 1024;
const EMPTY = Buffer.alloc(0);
const CAT = Buffer.from('}{');
const ESC_U = Buffer.from('\\u');

export interface ScannerOptions {
  readonly sourceName: string;
  readonly maxRecordBytes: number;
  /**
   * Deliver records whose strings hold the record's UTF-8 bytes one per character (decoded as
   * latin1) wherever that is exact: the record is valid UTF-8 and has no `\u` escape, so every
   * character of every string came from one input byte. Only for sinks that write those bytes
   * back out (the fused CSV path): `JSON.parse` is much faster on one-byte strings, and the
   * strings of a record with any non-ASCII character would otherwise all be two-byte.
   */
  readonly byteStrings?: boolean;
  /** Most bytes of each bad item copied into {@link FirehoseBadItem.bytes} (0: none). @default 1048576 */
  readonly maxBadBytes?: number;
}

export class FirehoseScanner {
  private readonly sourceName: string;
  private readonly maxRecordBytes: number;

  /** Pending bytes; `buf[0]` is at stream offset `base`. */
  private buf: Buffer = EMPTY;
  private base = 0;
  /** Index in `buf` of the current attempt's `{`, or -1 between records. */
  private attempt = -1;
  /** Next index to examine. */
  private pos = 0;
  private depth = 0;
  private inStr = false;
  private prev = 0;
  private failDetail = '';
  /** `buf[0, utf8ValidTo)` is known to be valid UTF-8 (0: nothing known). */
  private utf8ValidTo = 0;
  /** Next LF, next `}{` and next `\u` (the last only with byteStrings). */
  private readonly newline = new NextMatch(0x0a, 1);
  private readonly cat = new NextMatch(CAT, 2);
  private readonly escape = new NextMatch(ESC_U, 2);
  private readonly byteStrings: boolean;
  private bomChecked = false;
  /**
   * The framing of the last record the fast path accepted. Firehose writes one framing per object,
   * so the fast path tries that delimiter alone first and searches for the other only when the
   * guess fails: a concatenated object is never searched for newlines, nor a newline-separated
   * one for `}{`.
   */
  private framing = UNKNOWN;
  /** Records in a row whose fast-path guess failed, and records left to skip the fast path for. */
  private guessMisses = 0;
  private guessSkip = 0;

  /** Stream offset where the open bad region starts, or -1. */
  private badStart = -1;
  private badReason: BadRecordReason = 'invalid-json';
  private badDetail = '';
  /** The bad region's first bytes, copied while they are buffered (up to `captureBytes`). */
  private badParts: Buffer[] = [];
  private badCaptured = 0;
  /** Most bytes a bad item carries, and most copied of a bad region (at least the preview). */
  private readonly maxBadBytes: number;
  private readonly captureBytes: number;

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

  constructor(options: ScannerOptions) {
    this.sourceName = options.sourceName;
    this.maxRecordBytes = options.maxRecordBytes;
    this.byteStrings = options.byteStrings === true;
    this.maxBadBytes = options.maxBadBytes ?? DEFAULT_MAX_BAD_BYTES;
    this.captureBytes = Math.max(PREVIEW_BYTES, this.maxBadBytes);
  }

  /** Good records delivered so far. */
  records = 0;
  /** Bad items delivered so far. */
  badRecords = 0;

  /** Bytes held for the record in progress (bounded by maxRecordBytes plus one chunk). */
  get pendingBytes(): number {
    return this.buf.length;
  }

  /** Total decompressed bytes seen so far (the stream offset after the last pushed byte). */
  get bytesSeen(): number {
    return this.base + this.buf.length;
  }

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
   * The common case at a chunk boundary: the buffer holds only the start of a record that the
   * fast path is waiting on, and the new chunk holds its end. Parses that record from a copy of
   * just its bytes and continues in `chunk` itself, instead of copying the whole chunk behind the
   * held bytes. Returns false, having changed nothing, whenever the fast path would not accept
   * this span (no `}{` end found before any newline, too large, not UTF-8, not JSON): the caller
   * then joins the buffers and the scanner proceeds as usual.
   */
  private finishSpanning(chunk: Buffer, out: ScanSink): boolean {
    const held = this.buf;
    const h = held.length;
    if (this.attempt >= 0 || this.badStart >= 0 || !this.bomChecked || this.pos !== 0) return false;
    if (held[0] !== OPEN) return false;
    // The held bytes hold no candidate end after the `{` (the fast path waited), so the first
    // candidate is a `}{` across the boundary or the first `}{` or newline in `chunk`. With a known
    // framing only its own delimiter is looked for; otherwise a newline before the first `}{`
    // hands the decision to the usual path.
    let end: number;
    let next: number;
    let nl = -2;
    if (this.framing === NEWLINE) {
      nl = chunk.indexOf(0x0a);
      if (nl < 0) return false;
      end = nl;
      next = nl;
      while (end > 0 && WS[chunk[end - 1] as number] === 1) end--;
      if ((end === 0 ? held[h - 1] : chunk[end - 1]) !== CLOSE) return false;
    } else if (held[h - 1] === CLOSE && chunk[0] === OPEN) {
      end = 0;
      next = 0;
    } else {
      const cat = chunk.indexOf(CAT);
      if (cat < 0) return false;
      if (this.framing !== CONCATENATED) {
        nl = chunk.indexOf(0x0a);
        if (nl >= 0 && nl < cat) return false;
      }
      end = cat + 1;
      next = end;
    }
    if (h + end > this.maxRecordBytes) return false;
    const record = end === 0 ? held : Buffer.concat([held, chunk.subarray(0, end)]);
    if (!isUtf8(record)) return false;
    const bytes = this.byteStrings && record.indexOf(ESC_U) < 0;
    let parsed: unknown;
    try {
      parsed = JSON.parse(record.toString(bytes ? 'latin1' : 'utf8'));
    } catch {
      return false;
    }
    this.accept(parsed as Record<string, unknown>, 0, record.length, record, out, bytes);
    this.base += record.length + (next - end);
    this.buf = chunk.subarray(next);
    this.pos = 0;
    // A newline search of `chunk` above still holds (a newline, if any, lies at or after `next`).
    if (nl === -2 || nl < next) this.newline.reset();
    else this.newline.seed(nl < 0 ? -1 : nl - next, chunk.length - next);
    this.cat.reset();
    this.escape.reset();
    this.utf8ValidTo = 0;
    return true;
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
    if (this.badStart >= 0) this.emitBad(this.base + this.buf.length, out);
    this.base += this.buf.length;
    this.buf = EMPTY;
    this.pos = 0;
    this.attempt = -1;
  }

  /**
   * Validates the new bytes as UTF-8 in one native call, up to the last complete character, so
   * records inside that range need no check of their own. If the new bytes are not valid the
   * known-valid prefix stays as it was and the records after it are checked one by one.
   */
  private checkUtf8(): void {
    const buf = this.buf;
    let end = buf.length;
    // Step back over an incomplete trailing character (at most 3 bytes).
    let k = end - 1;
    const stop = Math.max(0, end - 4);
    while (k > stop && ((buf[k] as number) & 0xc0) === 0x80) k--;
    const lead = buf[k] as number;
    const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
    if (k + need > end) end = k;
    const from = this.utf8ValidTo;
    if (end > from && isUtf8(buf.subarray(from, end))) this.utf8ValidTo = end;
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
        if (this.badStart < 0) {
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
          if (this.guessSkip > 0) {
            this.guessSkip--;
          } else {
            const fast = this.fastRecord(buf, n, i, eof, out);
            if (fast === FAST_DONE) {
              this.guessMisses = 0;
              continue;
            }
            if (fast === FAST_WAIT && !noWait) {
              this.pos = i;
              break;
            }
            if (fast === FAST_MISS && ++this.guessMisses >= GUESS_MISS_LIMIT) {
              this.guessMisses = 0;
              this.guessSkip = GUESS_SKIP_RECORDS;
            }
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
    if (this.badStart >= 0) this.extendPreview();
  }

  /**
   * Fast path for a record starting at `start` outside any bad region: guess its end at the next
   * `}{` or newline (found with native searches), and `JSON.parse` that span. If the parse
   * succeeds the span is exactly the record the byte scanner would find: a complete JSON object
   * has one end, and a span ending at a `}` that lies inside a string has an open string and
   * cannot parse. Any doubt (no candidate end yet, parse failure) falls back to the byte scanner.
   * When the framing is known, its own delimiter is tried first, alone.
   */
  private fastRecord(buf: Buffer, n: number, start: number, eof: boolean, out: ScanSink): number {
    let tried = -1;
    if (this.framing === CONCATENATED) {
      const cat = this.cat.find(buf, n, start + 1);
      if (cat >= 0) {
        if (this.tryRecord(buf, n, start, cat + 1, out)) return FAST_DONE;
        tried = cat + 1;
      } else if (!eof) {
        return n - start > this.maxRecordBytes ? FAST_FALLBACK : FAST_WAIT;
      }
    } else if (this.framing === NEWLINE) {
      const nl = this.newline.find(buf, n, start + 1);
      if (nl >= 0) {
        const end = trimEnd(buf, start, nl);
        if (this.tryRecord(buf, n, start, end, out)) return FAST_DONE;
        tried = end;
      } else if (!eof) {
        return n - start > this.maxRecordBytes ? FAST_FALLBACK : FAST_WAIT;
      }
    }
    const nl = this.newline.find(buf, n, start + 1);
    const cat = this.cat.find(buf, n, start + 1);
    let end: number;
    let framing: number;
    if (cat >= 0 && (nl < 0 || cat < nl)) {
      end = cat + 1;
      framing = CONCATENATED;
    } else {
      if (nl >= 0) {
        end = nl;
        framing = NEWLINE;
      } else if (eof) {
        end = n;
        framing = this.framing;
      } else {
        // No candidate end yet: wait for more input rather than byte-scanning this record now.
        return n - start > this.maxRecordBytes ? FAST_FALLBACK : FAST_WAIT;
      }
      end = trimEnd(buf, start, end);
    }
    if (end === tried || !this.tryRecord(buf, n, start, end, out)) return FAST_MISS;
    this.framing = framing;
    return FAST_DONE;
  }

  /** Parses `buf[start, end)` as one record and accepts it; false (nothing changed) if it is not one. */
  private tryRecord(buf: Buffer, n: number, start: number, end: number, out: ScanSink): boolean {
    if (buf[end - 1] !== CLOSE) return false;
    if (end > this.utf8ValidTo && !isUtf8(buf.subarray(start, end))) return false;
    let bytes = false;
    if (this.byteStrings) {
      const esc = this.escape.find(buf, n, start);
      bytes = esc < 0 || esc >= end;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(buf.toString(bytes ? 'latin1' : 'utf8', start, end));
    } catch {
      return false;
    }
    this.pos = end;
    this.accept(parsed as Record<string, unknown>, start, end, buf, out, bytes);
    return true;
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
    if (this.badStart < 0) this.enterBad(start, reason, detail);
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
    if (this.badStart < 0) this.enterBad(start, 'too-large', detail);
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
    if (this.badStart < 0) this.enterBad(i, w.reason, w.detail);
    this.pos = i + 1;
    return true;
  }

  /**
   * A complete span that is not a record (invalid JSON or UTF-8): the whole span is bad. Its inner
   * objects are not tried one by one (parsing each nested level again is quadratic).
   */
  private failSpan(end: number, reason: BadRecordReason, detail: string): void {
    const start = this.attempt;
    if (this.badStart < 0) this.enterBad(start, reason, detail);
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
    if (this.badStart >= 0 && !Object.hasOwn(obj, 'ContactId')) {
      // A fragment of the bad region (e.g. a nested object of a truncated record), skipped whole.
      this.pos = end;
      return;
    }
    this.pos = end;
    this.accept(obj, start, end, buf, out, bytes);
  }

  /** A parsed top-level object: ends any open bad region, then yields a record or a bad record. */
  private accept(
    obj: Record<string, unknown>,
    start: number,
    end: number,
    buf: Buffer,
    out: ScanSink,
    bytes: boolean,
  ): void {
    if (this.badStart >= 0) this.emitBad(this.base + start, out);
    const hasId = Object.hasOwn(obj, 'ContactId');
    const offset = this.base + start;
    const length = end - start;
    if (!hasId) {
      out.bad(
        this.badItem(
          offset,
          length,
          buf.subarray(start, end),
          'not-a-ctr',
          'the record has no ContactId',
        ),
      );
      return;
    }
    let record: CtrRecord;
    if (passesCtrFastCheck(obj)) {
      record = obj as unknown as CtrRecord;
    } else {
      const result = ctrSchema.safeParse(obj);
      if (!result.success) {
        out.bad(
          this.badItem(
            offset,
            length,
            buf.subarray(start, end),
            'not-a-ctr',
            describeIssues(result.error),
          ),
        );
        return;
      }
      record = result.data as CtrRecord;
    }
    this.records++;
    out.record(record, obj, offset, length, bytes);
  }

  private enterBad(index: number, reason: BadRecordReason, detail: string): void {
    this.badStart = this.base + index;
    this.badReason = reason;
    this.badDetail = detail;
    this.badParts = [];
    this.badCaptured = 0;
    this.extendPreview();
  }

  /**
   * Copies more of the bad region's first bytes (up to `captureBytes`) while they are still
   * buffered: the bytes a bad item carries are bounded, and the reader never holds the region.
   */
  private extendPreview(): void {
    const have = this.badCaptured;
    if (have >= this.captureBytes) return;
    const from = this.badStart + have - this.base;
    const to = Math.min(this.buf.length, from + this.captureBytes - have);
    if (from < 0 || to <= from) return;
    this.badParts.push(Buffer.from(this.buf.subarray(from, to)));
    this.badCaptured += to - from;
  }

  private emitBad(upTo: number, out: ScanSink): void {
    this.extendPreview();
    const length = upTo - this.badStart;
    const parts = this.badParts;
    const captured = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
    out.bad(
      this.badItem(
        this.badStart,
        length,
        captured.subarray(0, Math.min(length, captured.length)),
        this.badReason,
        this.badDetail,
        false,
      ),
    );
    this.badStart = -1;
    this.badParts = [];
    this.badCaptured = 0;
  }

  /**
   * A bad item. `bytes` are its first bytes (at least the preview's, at most `captureBytes`);
   * `copy` says they still lie in the input buffer and must be copied before they are kept.
   */
  private badItem(
    offset: number,
    length: number,
    bytes: Buffer,
    reason: BadRecordReason,
    detail: string,
    copy = true,
  ): FirehoseBadItem {
    this.badRecords++;
    const kept = Math.min(length, this.maxBadBytes);
    const held = bytes.subarray(0, kept);
    return {
      kind: 'bad',
      offset,
      end: offset + length,
      length,
      preview: bytes.subarray(0, PREVIEW_BYTES).toString('utf8'),
      bytes: kept === 0 ? EMPTY : copy ? Buffer.from(held) : held,
      truncated: kept < length,
      reason,
      detail,
      sourceName: this.sourceName,
    };
  }

  /** Drops bytes no longer needed: everything before the current attempt or search position. */
  private compact(): void {
    const keepFrom = this.attempt >= 0 ? this.attempt : this.pos;
    if (keepFrom <= 0) return;
    this.newline.shift(keepFrom);
    this.cat.shift(keepFrom);
    this.escape.shift(keepFrom);
    this.utf8ValidTo = Math.max(0, this.utf8ValidTo - keepFrom);
    if (keepFrom >= this.buf.length) {
      this.base += this.buf.length;
      this.buf = EMPTY;
      this.pos -= keepFrom;
      if (this.pos < 0) this.pos = 0;
      return;
    }
    this.buf = this.buf.subarray(keepFrom);
    this.base += keepFrom;
    this.pos -= keepFrom;
    if (this.attempt >= 0) this.attempt -= keepFrom;
  }
}
