import { z } from 'zod';
import type { CtrRecord } from './types.js';

/**
 * The zod schema of the CTR fields this package uses. Unknown fields are allowed (Connect adds
 * fields over time) and are not copied into the parsed value; `null` and an absent key both mean
 * "no value". A wrong type in a used field fails validation: the reader then reports the record as
 * bad instead of throwing.
 */

/** ISO-8601 timestamp as Connect writes it (`2026-11-24T08:15:02Z`, milliseconds and offsets allowed). */
const TIMESTAMP_RE =
  /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/;

/** Days in each month (February: 29, checked against the year separately). */
const MONTH_DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** The two decimal digits at `i` (already known to be digits) as a number. */
function twoDigits(s: string, i: number): number {
  return (s.charCodeAt(i) - 48) * 10 + s.charCodeAt(i + 1) - 48;
}

/**
 * For a string that matches TIMESTAMP_RE: whether its date and time exist (month 01–12, a day the
 * month has, hour 00–23, minute and second 00–59, an offset up to ±23:59). `2026-13-45T27:00Z` has
 * the right shape but would otherwise roll over into another date.
 */
function timestampInRange(s: string): boolean {
  const month = twoDigits(s, 5);
  const day = twoDigits(s, 8);
  if (month < 1 || month > 12 || day < 1 || day > (MONTH_DAYS[month - 1] as number)) return false;
  if (month === 2 && day === 29) {
    const year = twoDigits(s, 0) * 100 + twoDigits(s, 2);
    if (year % 4 !== 0 || (year % 100 === 0 && year % 400 !== 0)) return false;
  }
  if (twoDigits(s, 11) > 23 || twoDigits(s, 14) > 59) return false;
  if (s.charCodeAt(16) === 0x3a && twoDigits(s, 17) > 59) return false;
  const n = s.length;
  if (s.charCodeAt(n - 1) === 0x5a) return true; // Z
  // An offset: ±HH:MM or ±HHMM at the end.
  const hours = twoDigits(s, s.charCodeAt(n - 3) === 0x3a ? n - 5 : n - 4);
  return hours <= 23 && twoDigits(s, n - 2) <= 59;
}

const timestamp = z
  .string()
  .regex(TIMESTAMP_RE, { message: 'expected an ISO-8601 UTC timestamp', abort: true })
  .refine(timestampInRange, {
    message: 'not a real date and time (month, day, hour, minute, second or offset out of range)',
  })
  .nullish();
const text = z.string().nullish();
/**
 * A duration in seconds. Beyond ±2^53 a JSON number cannot be held exactly, so the CSV could not
 * carry the value the record has: such a record is reported instead of written with other digits.
 */
const duration = z
  .number()
  .refine((v) => Math.abs(v) <= Number.MAX_SAFE_INTEGER, {
    message: `too large to be written exactly (more than ${Number.MAX_SAFE_INTEGER})`,
  })
  .nullish();

const endpointSchema = z.object({ Address: text }).nullish();

/**
 * The zod schema of the CTR fields this package uses (unknown fields are allowed and not copied).
 *
 * @example
 * const result = ctrSchema.safeParse(JSON.parse(text));
 * if (!result.success) console.error(result.error.issues);
 */
export const ctrSchema = z.object({
  ContactId: z.string().min(1, { message: 'ContactId must not be empty' }),
  Channel: text,
  InitiationMethod: text,
  InitiationTimestamp: timestamp,
  LastUpdateTimestamp: timestamp,
  TransferCompletedTimestamp: timestamp,
  TransferredToEndpoint: endpointSchema,
  SystemEndpoint: endpointSchema,
  Agent: z
    .object({
      ARN: text,
      Username: text,
      ConnectedToAgentTimestamp: timestamp,
      AgentInteractionDuration: duration,
      AfterContactWorkDuration: duration,
      CustomerHoldDuration: duration,
    })
    .nullish(),
  Queue: z
    .object({
      ARN: text,
      Name: text,
      EnqueueTimestamp: timestamp,
      Duration: duration,
    })
    .nullish(),
});

/** Formats zod issues as one short line: `Queue.Duration: expected number, received string`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(record)'}: ${i.message}`)
    .join('; ');
}

function isText(v: unknown): boolean {
  return v === null || v === undefined || typeof v === 'string';
}

function isTimestamp(v: unknown): boolean {
  return (
    v === null ||
    v === undefined ||
    (typeof v === 'string' && TIMESTAMP_RE.test(v) && timestampInRange(v))
  );
}

function isDuration(v: unknown): boolean {
  return (
    v === null ||
    v === undefined ||
    (typeof v === 'number' && v <= Number.MAX_SAFE_INTEGER && v >= -Number.MAX_SAFE_INTEGER)
  );
}

/** 0: null/undefined, 1: a plain (non-array) object, -1: anything else. */
function objectKind(v: unknown): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'object' && !Array.isArray(v) ? 1 : -1;
}

function isEndpoint(v: unknown): boolean {
  const k = objectKind(v);
  return k === 0 || (k === 1 && isText((v as Record<string, unknown>).Address));
}

/**
 * A fast pre-check that accepts exactly the common case of {@link ctrSchema}: when it returns
 * true, `ctrSchema` accepts the value too (a property test checks this), so the record can be
 * used as parsed, without zod's copy. When it returns false, `ctrSchema.safeParse` decides and
 * explains. This keeps the zod schema the single contract while the hot path stays close to
 * `JSON.parse` speed.
 */
export function passesCtrFastCheck(o: Record<string, unknown>): boolean {
  const id = o.ContactId;
  if (typeof id !== 'string' || id.length === 0) return false;
  if (
    !isText(o.Channel) ||
    !isText(o.InitiationMethod) ||
    !isTimestamp(o.InitiationTimestamp) ||
    !isTimestamp(o.LastUpdateTimestamp) ||
    !isTimestamp(o.TransferCompletedTimestamp) ||
    !isEndpoint(o.TransferredToEndpoint) ||
    !isEndpoint(o.SystemEndpoint)
  ) {
    return false;
  }
  const a = o.Agent;
  const ak = objectKind(a);
  if (ak < 0) return false;
  if (ak === 1) {
    const agent = a as Record<string, unknown>;
    if (
      !isText(agent.ARN) ||
      !isText(agent.Username) ||
      !isTimestamp(agent.ConnectedToAgentTimestamp) ||
      !isDuration(agent.AgentInteractionDuration) ||
      !isDuration(agent.AfterContactWorkDuration) ||
      !isDuration(agent.CustomerHoldDuration)
    ) {
      return false;
    }
  }
  const q = o.Queue;
  const qk = objectKind(q);
  if (qk < 0) return false;
  if (qk === 1) {
    const queue = q as Record<string, unknown>;
    if (
      !isText(queue.ARN) ||
      !isText(queue.Name) ||
      !isTimestamp(queue.EnqueueTimestamp) ||
      !isDuration(queue.Duration)
    ) {
      return false;
    }
  }
  return true;
}

/**
 * A parsed top-level object as a CTR, or why it is not one (the `detail` of a `not-a-ctr` bad
 * item): it needs an own `ContactId`, and must pass {@link ctrSchema} (through
 * {@link passesCtrFastCheck} when it can, as parsed).
 */
export function checkCtr(obj: Record<string, unknown>): CtrRecord | string {
  if (!Object.hasOwn(obj, 'ContactId')) return 'the record has no ContactId';
  if (passesCtrFastCheck(obj)) return obj as unknown as CtrRecord;
  const result = ctrSchema.safeParse(obj);
  return result.success ? (result.data as CtrRecord) : describeIssues(result.error);
}
