import { EMPTY } from './scan-bytes.js';
import type { BadRecordReason, FirehoseBadItem } from './types.js';

/** Bytes of a bad item shown as text in its `preview`. */
const PREVIEW_BYTES = 200;
/** Default bound on the bytes a bad item carries. */
export const DEFAULT_MAX_BAD_BYTES = 1024 * 1024;

/**
 * The scanner's bad items: the open bad region (from its first malformed byte until the next
 * record, docs/historical-formats.md#recovery) and single bad records. It copies the region's
 * first bytes while they are still buffered, so a bad item carries a bounded number of bytes and
 * the scanner never holds the whole region.
 */
export class BadRegion {
  /** Stream offset where the open bad region starts, or -1 (none open). */
  start = -1;
  /** Bad items made so far. */
  count = 0;
  private reason: BadRecordReason = 'invalid-json';
  private detail = '';
  /** The region's first bytes, copied while they are buffered (up to `captureBytes`). */
  private parts: Buffer[] = [];
  private captured = 0;
  /** Most bytes copied of a region: at least the preview, at least what an item carries. */
  private readonly captureBytes: number;

  constructor(
    private readonly sourceName: string,
    /** Most bytes a bad item carries (0: none). */
    private readonly maxBadBytes: number,
  ) {
    this.captureBytes = Math.max(PREVIEW_BYTES, maxBadBytes);
  }

  /** Opens a region at stream offset `offset`; `buf[0]` lies at stream offset `base`. */
  open(offset: number, reason: BadRecordReason, detail: string, buf: Buffer, base: number): void {
    this.start = offset;
    this.reason = reason;
    this.detail = detail;
    this.parts = [];
    this.captured = 0;
    this.capture(buf, base);
  }

  /** Copies more of the open region's first bytes from `buf` (at stream offset `base`). */
  capture(buf: Buffer, base: number): void {
    const have = this.captured;
    if (have >= this.captureBytes) return;
    const from = this.start + have - base;
    const to = Math.min(buf.length, from + this.captureBytes - have);
    if (from < 0 || to <= from) return;
    this.parts.push(Buffer.from(buf.subarray(from, to)));
    this.captured += to - from;
  }

  /** Closes the open region at stream offset `upTo` and returns it as one bad item. */
  close(upTo: number, buf: Buffer, base: number): FirehoseBadItem {
    this.capture(buf, base);
    const length = upTo - this.start;
    const parts = this.parts;
    const captured = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
    const item = this.item(
      this.start,
      length,
      captured.subarray(0, Math.min(length, captured.length)),
      this.reason,
      this.detail,
      false,
    );
    this.start = -1;
    this.parts = [];
    this.captured = 0;
    return item;
  }

  /**
   * A bad item. `bytes` are its first bytes (at least the preview's, at most `captureBytes`);
   * `copy` says they still lie in the input buffer and must be copied before they are kept.
   */
  item(
    offset: number,
    length: number,
    bytes: Buffer,
    reason: BadRecordReason,
    detail: string,
    copy = true,
  ): FirehoseBadItem {
    this.count++;
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
}
