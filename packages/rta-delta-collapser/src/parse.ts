import {
  type AgentEvent,
  agentEventSchema,
  formatIssues,
  SEQUENCE_NUMBER_PATTERN,
} from './schema.js';
import type { RejectedRecord, RejectionKind } from './types.js';

/** Where a record came from: used for ordering and in rejections. */
export interface RecordMeta {
  /** The shard the record was read from. */
  shardId: string;
  /** The record's sequence number in that shard (decimal digits). */
  sequenceNumber: string;
}

/** A usable agent event with its position in the stream. */
export interface ParsedAgentEvent {
  ok: true;
  /** The validated event (only the fields this package uses are present). */
  event: AgentEvent;
  /** `EventTimestamp` as epoch milliseconds. */
  eventTimeMs: number;
}

/** A record that is not a usable agent event. */
export interface RejectedParse {
  ok: false;
  /** What was wrong and where the record came from. */
  rejection: RejectedRecord;
}

/** Result of `parseAgentEvent`: never throws. */
export type ParseResult = ParsedAgentEvent | RejectedParse;

// Stateless for one-shot decode; `fatal` turns malformed UTF-8 into an error instead of U+FFFD.
const decoder = new TextDecoder('utf-8', { fatal: true });

function reject(
  meta: RecordMeta,
  kind: RejectionKind,
  reason: string,
  eventId?: unknown,
): RejectedParse {
  const rejection: RejectedRecord = {
    shardId: meta.shardId,
    sequenceNumber: meta.sequenceNumber,
    kind,
    reason,
  };
  if (typeof eventId === 'string') rejection.eventId = eventId;
  return { ok: false, rejection };
}

function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)[key]
    : undefined;
}

/**
 * Parses one Kinesis record's data as an Amazon Connect agent event and validates, with zod, the
 * fields the derivation needs (`EventType`, `EventTimestamp`, `EventId`,
 * `CurrentAgentSnapshot.{AgentStatus, Configuration.Username, Contacts}`). Unknown fields and
 * absent optional ones are fine. A record that is not a usable event is returned as a rejection
 * (with shard, sequence number, `EventId` if readable, and the reason); nothing is thrown.
 *
 * @example
 * const r = parseAgentEvent(Buffer.from(line), { shardId: 'shardId-000000000000', sequenceNumber: '1' });
 * if (r.ok) console.log(r.event.CurrentAgentSnapshot.Configuration.Username, r.eventTimeMs);
 * else console.warn(r.rejection.reason);
 */
export function parseAgentEvent(data: Uint8Array, meta: RecordMeta): ParseResult {
  if (!SEQUENCE_NUMBER_PATTERN.test(meta.sequenceNumber)) {
    return reject(
      meta,
      'invalid-sequence-number',
      `sequence number ${JSON.stringify(meta.sequenceNumber.slice(0, 60))} is not a decimal number`,
    );
  }
  let text: string;
  try {
    text = decoder.decode(data);
  } catch {
    return reject(
      meta,
      'invalid-utf8',
      `record data (${data.byteLength} bytes) is not valid UTF-8`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    return reject(meta, 'invalid-json', `record data is not JSON: ${detail}`);
  }
  const result = agentEventSchema.safeParse(json);
  const eventId = field(json, 'EventId');
  if (!result.success) {
    const username = field(field(field(json, 'CurrentAgentSnapshot'), 'Configuration'), 'Username');
    const problems = formatIssues(result.error).join('; ');
    if (typeof username !== 'string' || username.length === 0) {
      return reject(
        meta,
        'missing-username',
        `event has no usable CurrentAgentSnapshot.Configuration.Username (${problems})`,
        eventId,
      );
    }
    return reject(meta, 'invalid-event', `not a usable agent event: ${problems}`, eventId);
  }
  const eventTimeMs = Date.parse(result.data.EventTimestamp);
  if (!Number.isFinite(eventTimeMs)) {
    return reject(
      meta,
      'invalid-event',
      `EventTimestamp ${JSON.stringify(result.data.EventTimestamp)} is not a valid date`,
      eventId,
    );
  }
  return { ok: true, event: result.data, eventTimeMs };
}
