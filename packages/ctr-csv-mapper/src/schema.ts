import { z } from 'zod';

/**
 * The zod schema of the CTR fields this package uses. Unknown fields are allowed (Connect adds
 * fields over time) and are not copied into the parsed value; `null` and an absent key both mean
 * "no value". A wrong type in a used field fails validation: the reader then reports the record as
 * bad instead of throwing.
 */

/** ISO-8601 timestamp as Connect writes it (`2026-11-24T08:15:02Z`, milliseconds and offsets allowed). */
const TIMESTAMP_RE =
  /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/;

const timestamp = z
  .string()
  .regex(TIMESTAMP_RE, { message: 'expected an ISO-8601 UTC timestamp' })
  .nullish();
const text = z.string().nullish();
const duration = z.number().nullish();

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
  return v === null || v === undefined || (typeof v === 'string' && TIMESTAMP_RE.test(v));
}

function isDuration(v: unknown): boolean {
  return v === null || v === undefined || (typeof v === 'number' && Number.isFinite(v));
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
