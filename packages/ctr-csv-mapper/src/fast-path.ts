import { isUtf8 } from 'node:buffer';
import { BadRegion, DEFAULT_MAX_BAD_BYTES } from './bad-region.js';
import { NextMatch } from './next-match.js';
import { CAT, CLOSE, EMPTY, ESC_U, extendValidUtf8, LF, OPEN, trimEnd, WS } from './scan-bytes.js';
import { checkCtr } from './schema.js';
import type { CtrRecord, FirehoseBadItem } from './types.js';

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

/** What the fast path did with a record: delivered it, waits for more input, or leaves it to the byte scanner. */
export const FAST_DONE = 0;
export const FAST_WAIT = 1;
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
/**
 * 1 for the bytes that follow the `{` of a `}{` where one record ends and the next begins: `"`
 * (compact JSON, which is what Firehose writes), `}` (an empty object) or a line break or tab
 * (pretty-printed records). A `}{` followed by anything else (`}{ inside`, say) lies inside a string
 * far more often than between records, so the fast path does not spend a `JSON.parse` (and its
 * exception) on it but tries the next `}{`. It is only a guess either way: `JSON.parse` still
 * decides, and a skipped real end just leaves the record to the byte scanner.
 */
const RECORD_NEXT = new Uint8Array(256);
for (const c of [0x22, 0x7d, 0x0a, 0x0d, 0x09]) RECORD_NEXT[c] = 1;
/** Unlikely `}{` candidates skipped per record before the fast path hands it to the byte scanner. */
const MAX_SKIPPED = 4;
/** {@link RecordWindow.catEnd}: only unlikely candidates were found. */
const UNLIKELY = -3;
/** How the records seen so far ended: not known yet, at `}{`, or at a newline. */
const UNKNOWN = 0;
const CONCATENATED = 1;
const NEWLINE = 2;

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

/**
 * The record splitter's input window and fast path (the byte scanner and recovery build on it in
 * scanner.ts). The window holds the bytes not yet consumed (`buf`, at stream offset `base`) with
 * cached searches for record-end candidates; the fast path guesses a record's end at the next
 * `}{` or newline and lets `JSON.parse` confirm it; `accept` turns a parsed object into a record
 * or a bad item, in input order.
 */
export abstract class RecordWindow {
  protected readonly sourceName: string;
  protected readonly maxRecordBytes: number;

  /** Pending bytes; `buf[0]` is at stream offset `base`. */
  protected buf: Buffer = EMPTY;
  protected base = 0;
  /** Index in `buf` of the current attempt's `{`, or -1 between records. */
  protected attempt = -1;
  /** Next index to examine. */
  protected pos = 0;
  /** `buf[0, utf8ValidTo)` is known to be valid UTF-8 (0: nothing known). */
  protected utf8ValidTo = 0;
  /** Next LF, next `}{` and next `\u` (the last only with byteStrings). */
  protected readonly newline = new NextMatch(LF, 1);
  protected readonly cat = new NextMatch(CAT, 2);
  protected readonly escape = new NextMatch(ESC_U, 2);
  protected readonly byteStrings: boolean;
  protected bomChecked = false;
  /**
   * The framing of the last record the fast path accepted. Firehose writes one framing per object,
   * so the fast path tries that delimiter alone first and searches for the other only when the
   * guess fails: a concatenated object is never searched for newlines, nor a newline-separated
   * one for `}{`.
   */
  protected framing = UNKNOWN;
  /** Records in a row whose fast-path guess failed, and records left to skip the fast path for. */
  protected guessMisses = 0;
  protected guessSkip = 0;

  /** The open bad region (`bad.start >= 0`) and the bad items made. */
  protected readonly bad: BadRegion;

  constructor(options: ScannerOptions) {
    this.sourceName = options.sourceName;
    this.maxRecordBytes = options.maxRecordBytes;
    this.byteStrings = options.byteStrings === true;
    this.bad = new BadRegion(this.sourceName, options.maxBadBytes ?? DEFAULT_MAX_BAD_BYTES);
  }

  /** Good records delivered so far. */
  records = 0;

  /** Bad items delivered so far. */
  get badRecords(): number {
    return this.bad.count;
  }

  /** Bytes held for the record in progress (bounded by maxRecordBytes plus one chunk). */
  get pendingBytes(): number {
    return this.buf.length;
  }

  /** Total decompressed bytes seen so far (the stream offset after the last pushed byte). */
  get bytesSeen(): number {
    return this.base + this.buf.length;
  }

  /** Validates the new bytes as UTF-8 in one native call (see {@link extendValidUtf8}). */
  protected checkUtf8(): void {
    this.utf8ValidTo = extendValidUtf8(this.buf, this.utf8ValidTo);
  }

  /**
   * The common case at a chunk boundary: the buffer holds only the start of a record that the
   * fast path is waiting on, and the new chunk holds its end. Parses that record from a copy of
   * just its bytes and continues in `chunk` itself, instead of copying the whole chunk behind the
   * held bytes. Returns false, having changed nothing, whenever the fast path would not accept
   * this span (no `}{` end found before any newline, too large, not UTF-8, not JSON): the caller
   * then joins the buffers and the scanner proceeds as usual.
   */
  protected finishSpanning(chunk: Buffer, out: ScanSink): boolean {
    const held = this.buf;
    const h = held.length;
    if (this.attempt >= 0 || this.bad.start >= 0 || !this.bomChecked || this.pos !== 0)
      return false;
    if (held[0] !== OPEN) return false;
    // The held bytes hold no candidate end after the `{` (the fast path waited), so the first
    // candidate is a `}{` across the boundary or the first `}{` or newline in `chunk`. With a known
    // framing only its own delimiter is looked for; otherwise a newline before the first `}{`
    // hands the decision to the usual path.
    let end: number;
    let next: number;
    let nl = -2;
    if (this.framing === NEWLINE) {
      nl = chunk.indexOf(LF);
      if (nl < 0) return false;
      end = nl;
      next = nl;
      while (end > 0 && WS[chunk[end - 1] as number] === 1) end--;
      if ((end === 0 ? held[h - 1] : chunk[end - 1]) !== CLOSE) return false;
    } else if (
      held[h - 1] === CLOSE &&
      chunk[0] === OPEN &&
      (chunk.length < 2 || RECORD_NEXT[chunk[1] as number] === 1)
    ) {
      end = 0;
      next = 0;
    } else {
      let cat = chunk.indexOf(CAT);
      for (
        let k = 0;
        cat >= 0 && cat + 2 < chunk.length && RECORD_NEXT[chunk[cat + 2] as number] !== 1;
        k++
      ) {
        if (k === MAX_SKIPPED) return false;
        cat = chunk.indexOf(CAT, cat + 1);
      }
      if (cat < 0) return false;
      if (this.framing !== CONCATENATED) {
        nl = chunk.indexOf(LF);
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
   * Tries the fast path for a record starting at buffer index `start` (outside any bad region):
   * FAST_DONE (delivered), FAST_WAIT (no candidate end yet) or another value (byte-scan it). After
   * {@link GUESS_MISS_LIMIT} wrong guesses in a row it stands aside for a while.
   */
  protected guessRecord(
    buf: Buffer,
    n: number,
    start: number,
    eof: boolean,
    out: ScanSink,
  ): number {
    if (this.guessSkip > 0) {
      this.guessSkip--;
      return FAST_FALLBACK;
    }
    const fast = this.fastRecord(buf, n, start, eof, out);
    if (fast === FAST_DONE) {
      this.guessMisses = 0;
    } else if (fast === FAST_MISS && ++this.guessMisses >= GUESS_MISS_LIMIT) {
      this.guessMisses = 0;
      this.guessSkip = GUESS_SKIP_RECORDS;
    }
    return fast;
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
      const cat = this.catEnd(buf, n, start + 1);
      if (cat === UNLIKELY) return FAST_MISS;
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
    let cat = this.catEnd(buf, n, start + 1);
    if (cat === UNLIKELY) {
      if (nl < 0) return FAST_MISS;
      cat = -1;
    }
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

  /**
   * The next `}{` at or after `from` that is likely to be a record end (see {@link RECORD_NEXT};
   * one whose `{` is the last byte held counts as likely), -1 if there is none, or
   * {@link UNLIKELY} when only unlikely ones were found (at most {@link MAX_SKIPPED} are skipped).
   */
  private catEnd(buf: Buffer, n: number, from: number): number {
    let cat = this.cat.find(buf, n, from);
    for (let k = 0; cat >= 0 && cat + 2 < n && RECORD_NEXT[buf[cat + 2] as number] !== 1; k++) {
      if (k === MAX_SKIPPED) return UNLIKELY;
      cat = this.cat.find(buf, n, cat + 1);
      if (cat < 0) return UNLIKELY;
    }
    return cat;
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

  /** A parsed top-level object: ends any open bad region, then yields a record or a bad record. */
  protected accept(
    obj: Record<string, unknown>,
    start: number,
    end: number,
    buf: Buffer,
    out: ScanSink,
    bytes: boolean,
  ): void {
    const offset = this.base + start;
    if (this.bad.start >= 0) out.bad(this.bad.close(offset, this.buf, this.base));
    const record = checkCtr(obj);
    if (typeof record === 'string') {
      out.bad(this.bad.item(offset, end - start, buf.subarray(start, end), 'not-a-ctr', record));
      return;
    }
    this.records++;
    out.record(record, obj, offset, end - start, bytes);
  }

  /** Drops bytes no longer needed: everything before the current attempt or search position. */
  protected compact(): void {
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
