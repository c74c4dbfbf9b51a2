/**
 * What `ctr-csv` says on standard error: the bad-record summary (bounded whatever the number of
 * bad records) and error messages, with control characters escaped.
 */
import { CtrMapperError, InputFailedError } from '../errors.js';
import type { BadRecordReason, FirehoseBadItem } from '../types.js';

/** Bad records listed one by one; the rest are only counted, per reason. */
export const DETAILED_BAD_RECORDS = 100;

/** Longest `detail` text printed for one bad record (a JSON error can quote a long input). */
const MAX_DETAIL_CHARS = 300;

/** Longest file name printed (a hostile name must not flood the terminal). */
const MAX_NAME_CHARS = 500;

// C0 controls, DEL and C1 controls (ESC and CSI among them), and the Unicode line/paragraph
// separators and bidirectional overrides that can reorder or rewrite what a terminal shows.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * Makes text safe to print on a terminal: every control character becomes a visible escape
 * (`\x1b`, `\n`, `\u202e`), so neither a file name nor a parse error can move the cursor, change
 * colours or rewrite earlier lines.
 *
 * @example
 * escapeControl('a\x1b[2Jb'); // 'a\\x1b[2Jb'
 */
export function escapeControl(text: string): string {
  return text.replace(CONTROL, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    const code = c.charCodeAt(0);
    return code <= 0xff
      ? `\\x${code.toString(16).padStart(2, '0')}`
      : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** `text` cut to `max` characters (with how much was cut), then escaped. */
export function printable(text: string, max: number): string {
  const cut = text.length > max ? `${text.slice(0, max)}… (${text.length - max} more chars)` : text;
  return escapeControl(cut);
}

/**
 * Counts bad records in bounded memory: the first {@link DETAILED_BAD_RECORDS} are kept for the
 * summary (their previews only, never their bytes), the rest are counted per reason with their
 * total size. Memory and the summary's length no longer grow with the number of bad records.
 */
export class BadRecordTally {
  /** The first bad records, as the summary lists them. */
  readonly first: FirehoseBadItem[] = [];
  /** Every bad record's count and bytes, per reason. */
  readonly byReason = new Map<BadRecordReason, { count: number; bytes: number }>();
  /** Bad records seen in all. */
  count = 0;

  constructor(private readonly detailed = DETAILED_BAD_RECORDS) {}

  /** Takes one bad record (the reader's `onBadRecord`). */
  add = (bad: FirehoseBadItem): void => {
    this.count++;
    const entry = this.byReason.get(bad.reason);
    if (entry === undefined) this.byReason.set(bad.reason, { count: 1, bytes: bad.length });
    else {
      entry.count++;
      entry.bytes += bad.length;
    }
    if (this.first.length < this.detailed) this.first.push(bad);
  };

  /** The summary: a count line, the first bad records, then the others counted per reason. */
  summary(good: number): string {
    const lines = [
      `ctr-csv: ${good} good record(s) converted, ${this.count} bad record(s) left out:`,
    ];
    for (const b of this.first) {
      lines.push(
        `  ${printable(b.sourceName, MAX_NAME_CHARS)}: byte ${b.offset} (${b.length} bytes): ${b.reason}: ${printable(b.detail, MAX_DETAIL_CHARS)}; starts with ${escapeControl(JSON.stringify(b.preview))}`,
      );
    }
    const rest = this.count - this.first.length;
    if (rest > 0) {
      const listed = new Map<BadRecordReason, { count: number; bytes: number }>();
      for (const b of this.first) {
        const e = listed.get(b.reason) ?? { count: 0, bytes: 0 };
        e.count++;
        e.bytes += b.length;
        listed.set(b.reason, e);
      }
      lines.push(`  … and ${rest} more bad record(s), not listed:`);
      for (const [reason, all] of this.byReason) {
        const shown = listed.get(reason) ?? { count: 0, bytes: 0 };
        const count = all.count - shown.count;
        if (count > 0) lines.push(`    ${reason}: ${count} (${all.bytes - shown.bytes} bytes)`);
      }
    }
    return `${lines.join('\n')}\n`;
  }
}

/** A one-line description of a failure for standard error (control characters escaped). */
export function describe(err: unknown): string {
  return printable(describeRaw(err), 4000);
}

function describeRaw(err: unknown): string {
  if (err instanceof InputFailedError && err.cause instanceof Error) {
    const cause = err.cause as NodeJS.ErrnoException;
    if (cause.code !== undefined && cause.path !== undefined) return describeRaw(cause);
    return `reading ${err.sourceName} failed after ${err.offset} bytes: ${cause.message}`;
  }
  if (err instanceof CtrMapperError) return err.message;
  if (err instanceof Error) {
    const e = err as NodeJS.ErrnoException;
    if (e.code !== undefined && e.path !== undefined) {
      return `cannot ${e.syscall ?? 'access'} ${JSON.stringify(e.path)}: ${e.code} (${e.message.replace(/^[A-Z]+: /, '')})`;
    }
    return err.message;
  }
  return String(err);
}
