import { csvText } from './csv-field.js';
import { CTR_CSV_HEADER } from './ctr-columns.js';
import type { ArnMode, CtrRecord } from './types.js';

/**
 * The hand-specialized raw CTR CSV writer of the fused path (`firehoseObjectToCsv`): the columns
 * of `CTR_CSV_SPEC` (ctr-columns.ts) unrolled into byte writes for speed. A property test checks
 * that it writes exactly what the generic `ctrCsvRow` writes for any record.
 */

/**
 * Copies `v.slice(from)` into `b` at `p` as one CSV field, one byte per character, and returns
 * the new end; or -1 when a character is above `max`, a control character (CR and LF among them),
 * `"` or `,` (the caller then uses {@link writeSlow}). `max` is 0x7f for text (plain ASCII is its
 * own UTF-8) and 0xff for byte strings (each character is already one UTF-8 byte, and no byte of
 * a multi-byte character is `"`, `,` or a control character). The check and the copy are one
 * pass; `b` must have room for `v.length - from` bytes.
 */
function copyPlain(b: Buffer, p: number, v: string, from: number, max: number): number {
  const n = v.length;
  for (let i = from; i < n; i++) {
    const c = v.charCodeAt(i);
    // Most characters lie above `,` (letters, digits, `-`, `.`, `/`, `:`): two comparisons.
    if (c > max || (c <= 0x2c && (c === 0x2c || c === 0x22 || c < 0x20))) return -1;
    b[p++] = c;
  }
  return p;
}

/**
 * Writes `v.slice(from)` into `b` at `p` as one quoted CSV field (inner `"` doubled, NUL dropped,
 * as `csvText`) and returns the new end; or -1 when a character is above `max` or when the field
 * needs no quotes after all (no `"`, `,`, CR or LF: a tab, say), for {@link writeSlow}. The common
 * quoted field (`Support, "Tier 1"`) is thus written without building the quoted string first.
 * `b` must have room for `2 * (v.length - from) + 2` bytes.
 */
function copyQuoted(b: Buffer, p: number, v: string, from: number, max: number): number {
  const n = v.length;
  let o = p + 1;
  let needs = false;
  for (let i = from; i < n; i++) {
    const c = v.charCodeAt(i);
    if (c > max) return -1;
    if (c === 0x22) {
      b[o++] = 0x22;
      b[o++] = 0x22;
      needs = true;
    } else if (c !== 0) {
      if (c === 0x2c || c === 0x0a || c === 0x0d) needs = true;
      b[o++] = c;
    }
  }
  if (!needs) return -1;
  b[p] = 0x22;
  b[o++] = 0x22;
  return o;
}

/**
 * Any field: RFC 4180 quoting and NUL dropping as `csvText`, written with `Buffer.write` as UTF-8 (text) or
 * latin1 (byte strings, which are UTF-8 bytes already). Returns the new end.
 */
function writeSlow(b: Buffer, p: number, v: string, max: number): number {
  return p + b.write(csvText(v), p, max === 0xff ? 'latin1' : 'utf8');
}

/** Writes a text field (nothing for null/undefined); `from` skips a prefix (the ARN id). */
function textAt(
  b: Buffer,
  p: number,
  v: string | null | undefined,
  from: number,
  max: number,
): number {
  if (v === null || v === undefined) return p;
  const q = copyPlain(b, p, v, from, max);
  if (q >= 0) return q;
  const r = copyQuoted(b, p, v, from, max);
  return r >= 0 ? r : writeSlow(b, p, from === 0 ? v : v.slice(from), max);
}

/**
 * Writes a validated timestamp (nothing for null/undefined). The schema's pattern admits only
 * digits, `-`, `:`, `.`, `T`, `Z` and `+`, so it needs neither quoting nor a check per character.
 */
function timestampAt(b: Buffer, p: number, v: string | null | undefined): number {
  if (v === null || v === undefined) return p;
  const n = v.length;
  for (let i = 0; i < n; i++) b[p + i] = v.charCodeAt(i);
  return p + n;
}

/** Writes a number in the form String(v) gives (nothing for null/undefined). */
function numAt(b: Buffer, p: number, v: number | null | undefined): number {
  if (v === null || v === undefined) return p;
  if (v >= 0 && v <= 0x7fffffff && (v | 0) === v) {
    // A non-negative int32 (`-0` included, which String(-0) writes as `0`): its decimal digits.
    let x = v | 0;
    let end = p + 1;
    for (let t = x; t >= 10; t = (t / 10) | 0) end++;
    let k = end;
    do {
      b[--k] = 0x30 + (x % 10);
      x = (x / 10) | 0;
    } while (x > 0);
    return end;
  }
  return textAt(b, p, String(v), 0, 0x7f);
}

/** Length of an optional string, for the room estimate. */
function len(v: string | null | undefined): number {
  return v === null || v === undefined ? 0 : v.length;
}

/** Room for the 15 commas, the newline and four numbers (String(number) is at most 25 chars). */
const ROW_FIXED_BYTES = 16 + 4 * 25;

/**
 * Writes raw CTR CSV rows as UTF-8 straight into output Buffers of about `limit` bytes, for
 * records the reader has validated (strings where the schema says text or timestamp, numbers
 * where it says duration). A field without `"`, `,` or control characters, the common case, is
 * checked and copied in one pass, one char code per byte; any other string goes through the same
 * RFC 4180 quoting as {@link csvField} and `Buffer.write`. Building no per-row strings saves the
 * concatenation, the separate UTF-8 encoding pass and the garbage they leave.
 *
 * A record whose strings are byte strings (the scanner's `byteStrings`: each character one UTF-8
 * byte of the input) is written byte for byte, so its non-ASCII text comes out exactly as it came
 * in; a record of ordinary strings is encoded to UTF-8.
 */
export class CsvRowWriter {
  private buf: Buffer;
  private pos = 0;
  private readonly ready: Buffer[] = [];

  constructor(private readonly limit: number) {
    this.buf = Buffer.allocUnsafe(limit + ROW_FIXED_BYTES + 4096);
  }

  /** The next finished output Buffer, or undefined. */
  take(): Buffer | undefined {
    return this.ready.shift();
  }

  header(): void {
    const line = `${CTR_CSV_HEADER}\n`;
    this.room(line.length);
    this.pos += this.buf.write(line, this.pos, 'latin1');
    this.endRow();
  }

  /** Finishes the output: whatever was written becomes the last Buffer. */
  end(): void {
    if (this.pos > 0) this.ready.push(this.buf.subarray(0, this.pos));
    this.pos = 0;
  }

  row(record: CtrRecord, mode: ArnMode, bytes: boolean): void {
    const max = bytes ? 0xff : 0x7f;
    const a = record.Agent;
    const q = record.Queue;
    const agentArn = a ? a.ARN : undefined;
    const username = a ? a.Username : undefined;
    const queueArn = q ? q.ARN : undefined;
    const queueName = q ? q.Name : undefined;
    const enqueued = q ? q.EnqueueTimestamp : undefined;
    const systemAddress = record.SystemEndpoint?.Address;
    const transferAddress = record.TransferredToEndpoint?.Address;
    // Worst case: 3 UTF-8 bytes per UTF-16 unit, doubled quotes, two enclosing quotes per field.
    const units =
      len(agentArn) +
      len(username) +
      len(record.Channel) +
      record.ContactId.length +
      len(record.InitiationMethod) +
      len(record.InitiationTimestamp) +
      len(queueArn) +
      len(enqueued) +
      len(queueName) +
      len(systemAddress) +
      len(record.TransferCompletedTimestamp) +
      len(transferAddress);
    this.room(ROW_FIXED_BYTES + 24 + 6 * units);
    const b = this.buf;
    let p = this.pos;
    if (a) {
      p = textAt(
        b,
        p,
        agentArn,
        mode === 'full' || !agentArn ? 0 : agentArn.lastIndexOf('/') + 1,
        max,
      );
      b[p++] = 0x2c;
      p = numAt(b, p, a.AfterContactWorkDuration);
      b[p++] = 0x2c;
      p = numAt(b, p, a.AgentInteractionDuration);
      b[p++] = 0x2c;
      p = numAt(b, p, a.CustomerHoldDuration);
      b[p++] = 0x2c;
      p = textAt(b, p, username, 0, max);
    } else {
      b[p++] = 0x2c;
      b[p++] = 0x2c;
      b[p++] = 0x2c;
      b[p++] = 0x2c;
    }
    b[p++] = 0x2c;
    p = textAt(b, p, record.Channel, 0, max);
    b[p++] = 0x2c;
    p = textAt(b, p, record.ContactId, 0, max);
    b[p++] = 0x2c;
    p = textAt(b, p, record.InitiationMethod, 0, max);
    b[p++] = 0x2c;
    p = timestampAt(b, p, record.InitiationTimestamp);
    b[p++] = 0x2c;
    if (q) {
      p = textAt(
        b,
        p,
        queueArn,
        mode === 'full' || !queueArn ? 0 : queueArn.lastIndexOf('/') + 1,
        max,
      );
      b[p++] = 0x2c;
      p = numAt(b, p, q.Duration);
      b[p++] = 0x2c;
      p = timestampAt(b, p, enqueued);
      b[p++] = 0x2c;
      p = textAt(b, p, queueName, 0, max);
    } else {
      b[p++] = 0x2c;
      b[p++] = 0x2c;
      b[p++] = 0x2c;
    }
    b[p++] = 0x2c;
    p = textAt(b, p, systemAddress, 0, max);
    b[p++] = 0x2c;
    p = timestampAt(b, p, record.TransferCompletedTimestamp);
    b[p++] = 0x2c;
    p = textAt(b, p, transferAddress, 0, max);
    b[p++] = 0x0a;
    this.pos = p;
    this.endRow();
  }

  /**
   * Writes a row already formatted as text (the generic writer's, used when an option such as
   * `formulaEscape` needs it): latin1 for byte strings, UTF-8 otherwise.
   */
  line(text: string, bytes: boolean): void {
    this.room(text.length * 3);
    this.pos += this.buf.write(text, this.pos, bytes ? 'latin1' : 'utf8');
    this.endRow();
  }

  /** After a whole row: hands the Buffer over once it holds `limit` bytes. */
  private endRow(): void {
    if (this.pos < this.limit) return;
    this.ready.push(this.buf.subarray(0, this.pos));
    this.buf = Buffer.allocUnsafe(this.limit + ROW_FIXED_BYTES + 4096);
    this.pos = 0;
  }

  /** Makes room for `bytes` more bytes, handing over what was written so far if needed. */
  private room(bytes: number): void {
    if (this.pos + bytes <= this.buf.length) return;
    if (this.pos > 0) this.ready.push(this.buf.subarray(0, this.pos));
    this.buf = Buffer.allocUnsafe(Math.max(this.limit + ROW_FIXED_BYTES + 4096, bytes));
    this.pos = 0;
  }
}
