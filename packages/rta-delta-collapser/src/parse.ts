import { SEQUENCE_NUMBER_PATTERN } from '@connect-wfm/core';
import type { z } from 'zod';
import { type AgentEvent, agentEventSchema, formatIssues, NOT_BLANK } from './schema.js';
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

/**
 * The common case of Connect's timestamp (`2023-05-02T08:00:00.118Z`, day 01–28): a strict
 * subset of what `z.iso.datetime({ offset: true })` accepts. Anything else goes through zod.
 */
const FAST_TIMESTAMP =
  /^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|1\d|2[0-8])T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d{1,9})?Z$/;

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNullishString(value: unknown): value is string | null | undefined {
  return value == null || typeof value === 'string';
}

/**
 * Fast path of `agentEventSchema.safeParse`: the same checks written out by hand, returning the
 * same output (only the schema's fields; absent optional fields stay absent). It only ever
 * accepts input the schema accepts (tests check this); when it returns `undefined`, the caller
 * runs the zod schema, which decides and produces the error message. Validating a ~2 KB event
 * this way costs a few percent of `JSON.parse` instead of ~10 %. Internal (exported for tests).
 */
export function fastParse(json: unknown): AgentEvent | undefined {
  if (!isObject(json)) return undefined;
  const { EventId, EventType, EventTimestamp, AgentARN, CurrentAgentSnapshot } = json;
  if (
    !isNullishString(EventId) ||
    typeof EventType !== 'string' ||
    typeof EventTimestamp !== 'string' ||
    !FAST_TIMESTAMP.test(EventTimestamp) ||
    !isNullishString(AgentARN) ||
    !isObject(CurrentAgentSnapshot)
  ) {
    return undefined;
  }
  const { AgentStatus, Configuration, Contacts } = CurrentAgentSnapshot;
  if (!isObject(AgentStatus) || !isObject(Configuration)) return undefined;
  const { ARN, Name, Type } = AgentStatus;
  const { Username } = Configuration;
  if (
    typeof ARN !== 'string' ||
    ARN.length === 0 ||
    typeof Name !== 'string' ||
    Name.length === 0 ||
    !isNullishString(Type) ||
    typeof Username !== 'string' ||
    !NOT_BLANK.test(Username)
  ) {
    return undefined;
  }
  const status: AgentEvent['CurrentAgentSnapshot']['AgentStatus'] = { ARN, Name };
  if (Type !== undefined) status.Type = Type;
  const snapshot: AgentEvent['CurrentAgentSnapshot'] = {
    AgentStatus: status,
    Configuration: { Username },
  };
  if (Contacts !== undefined) {
    if (Contacts === null) {
      snapshot.Contacts = null;
    } else {
      if (!Array.isArray(Contacts)) return undefined;
      const contacts: NonNullable<AgentEvent['CurrentAgentSnapshot']['Contacts']> = [];
      for (const contact of Contacts as unknown[]) {
        if (!isObject(contact)) return undefined;
        const { State, Channel } = contact;
        if (!isNullishString(State) || !isNullishString(Channel)) return undefined;
        const out: (typeof contacts)[number] = {};
        if (State !== undefined) out.State = State;
        if (Channel !== undefined) out.Channel = Channel;
        contacts.push(out);
      }
      snapshot.Contacts = contacts;
    }
  }
  const event: AgentEvent = { EventType, EventTimestamp, CurrentAgentSnapshot: snapshot };
  if (EventId !== undefined) event.EventId = EventId;
  if (AgentARN !== undefined) event.AgentARN = AgentARN;
  return event;
}

/** Validates parsed JSON against the agent event contract: the fast path, else zod. */
export function validateAgentEvent(
  json: unknown,
): { success: true; data: AgentEvent } | { success: false; error: z.ZodError } {
  const fast = fastParse(json);
  if (fast !== undefined) return { success: true, data: fast };
  return agentEventSchema.safeParse(json);
}

function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)[key]
    : undefined;
}

/**
 * What `JSON.parse` objected to, in words that never quote the record: V8's messages quote the
 * text around the error (`Unexpected token 'A', ..."LastName":Alvarez"...`), and agent events
 * carry personal data (names). Only known message shapes are translated; the position V8 gives
 * is turned into a byte offset of the record data.
 */
const JSON_PROBLEMS: readonly (readonly [RegExp, string])[] = [
  [/^Unexpected end of JSON input/, 'the data ends inside the JSON value'],
  [
    /^Unexpected non-whitespace character after JSON/,
    'more data follows the JSON value (e.g. two concatenated events)',
  ],
  [/^Unterminated string/, 'unterminated string'],
  [/^Bad control character/, 'control character in a string'],
  [/^Bad (?:escaped character|Unicode escape)/, 'bad escape sequence in a string'],
  [/^Expected (?:double-quoted )?property name/, 'expected a property name'],
  [/^Expected ',' or '\}'/, "expected ',' or '}'"],
  [/^Expected ',' or '\]'/, "expected ',' or ']'"],
  [/^Expected ':'/, "expected ':'"],
  [/^(?:Unexpected|Unterminated|No number|Exponent)\b.*\bnumber/i, 'malformed number'],
  [/^Unexpected token/, 'unexpected character'],
];

function describeJsonError(err: unknown, text: string, byteLength: number): string {
  const message = err instanceof Error ? err.message : '';
  let problem = '';
  for (const [pattern, words] of JSON_PROBLEMS) {
    if (pattern.test(message)) {
      problem = `: ${words}`;
      break;
    }
  }
  let where = '';
  const position = /\bat position (\d{1,10})\b/.exec(message)?.[1];
  if (position !== undefined) {
    const chars = Number(position);
    if (chars <= text.length) {
      where = ` at byte ${new TextEncoder().encode(text.slice(0, chars)).byteLength}`;
    }
  }
  return `record data (${byteLength} bytes) is not valid JSON${problem}${where}`;
}

/**
 * Parses one Kinesis record's data as an Amazon Connect agent event and validates, with zod, the
 * fields the derivation needs (zod schema `agentEventSchema`, with a hand-written fast path that
 * accepts only what the schema accepts) (`EventType`, `EventTimestamp`, `EventId`,
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
  if (typeof meta.sequenceNumber !== 'string' || meta.sequenceNumber === '') {
    // A caller's record without a sequence number: reported like any malformed record.
    return reject(
      { shardId: meta.shardId, sequenceNumber: '' },
      'invalid-sequence-number',
      'record has no sequence number',
    );
  }
  if (!SEQUENCE_NUMBER_PATTERN.test(meta.sequenceNumber)) {
    return reject(
      meta,
      'invalid-sequence-number',
      `sequence number ${JSON.stringify(meta.sequenceNumber.slice(0, 60))} is not a decimal number`,
    );
  }
  if (!ArrayBuffer.isView(data)) {
    return reject(
      meta,
      'missing-data',
      data == null ? 'record has no data' : 'record data is not bytes (expected a Uint8Array)',
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
    return reject(meta, 'invalid-json', describeJsonError(err, text, data.byteLength));
  }
  const result = validateAgentEvent(json);
  const eventId = field(json, 'EventId');
  if (!result.success) {
    const username = field(field(field(json, 'CurrentAgentSnapshot'), 'Configuration'), 'Username');
    const problems = formatIssues(result.error).join('; ');
    if (typeof username !== 'string' || !NOT_BLANK.test(username)) {
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
