/**
 * How the testkit's RTA receiver reads requests and writes error answers as ASP.NET does
 * (docs/teleopti-rta.md#server-generations): body and state parsing, source id checks, and the
 * JSON error bodies. Internal to the receiver; not exported from the package.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import { RTA_MAX_STATE_CODE_LENGTH, RTA_NULL_REFERENCE_MESSAGE } from './rta-protocol.js';
import type { RtaRequestRecord } from './rta-receiver-types.js';

/** An answer other than 2xx: status, message and the .NET exception type of a 5xx body. */
export class HttpFailure extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly exceptionType = 'Exception',
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

/** One state of a request, validated. */
export interface ParsedState {
  userCode: string;
  stateCode: string;
  stateDescription: string | undefined;
}

/** A batch ready to apply (current mode: waiting in the worker's queue). */
export interface QueuedBatch {
  endpoint: 'batch' | 'change';
  sourceId: string;
  isSnapshot: boolean;
  states: ParsedState[];
  receivedAt: Date;
}

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\b/i;

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A malformed body: ASP.NET binds no model and the controller meets a null reference (500). */
export function nullReference(): HttpFailure {
  return new HttpFailure(500, RTA_NULL_REFERENCE_MESSAGE, 'NullReferenceException');
}

function optionalString(obj: Record<string, unknown>, field: string): string | undefined {
  const v = obj[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw nullReference();
  return v;
}

/** A snapshot id as the snapshot-id generation reads it: a date-time, or none when unparsable. */
export function parseSnapshotId(v: unknown): number | undefined {
  // V8's Date.parse takes almost anything ("snapshot-1"); a .NET date-time starts with a digit.
  if (typeof v !== 'string' || !/^\s*\d/.test(v)) return undefined;
  const at = Date.parse(v);
  return Number.isFinite(at) ? at : undefined;
}

/** The request body as JSON: 405 for another method, 415 for another type, 500 for bad JSON. */
export function parseBody(req: IncomingMessage, raw: Buffer): unknown {
  if (req.method !== 'POST') {
    throw new HttpFailure(405, 'The requested resource does not support http method.');
  }
  const type = req.headers['content-type'] ?? '';
  if (!JSON_TYPE.test(type)) {
    throw new HttpFailure(
      415,
      `The request entity's media type '${type}' is not supported for this resource.`,
    );
  }
  try {
    return JSON.parse(raw.toString('utf8')) as unknown;
  } catch {
    // ASP.NET binds no model from invalid JSON; the controller then dereferences null.
    throw nullReference();
  }
}

/**
 * The states of a `batch` body (`States`) or a `change` body (the body itself).
 * `withDescription: false` ignores `StateDescription` (the snapshot-id generation has none).
 */
export function parseStates(
  body: Record<string, unknown>,
  endpoint: 'batch' | 'change',
  withDescription: boolean,
): ParsedState[] {
  const one = (item: Record<string, unknown>): ParsedState => {
    const userCode = item.UserCode;
    if (userCode !== undefined && userCode !== null && typeof userCode !== 'string') {
      throw nullReference();
    }
    const stateCode = item.StateCode;
    if (stateCode === undefined || stateCode === null) {
      throw new HttpFailure(500, 'State code is required', 'InvalidStateCodeException');
    }
    if (typeof stateCode !== 'string') throw nullReference();
    if (stateCode.length > RTA_MAX_STATE_CODE_LENGTH) {
      throw new HttpFailure(
        500,
        'State code can not exceed 300 characters (including platform type id)',
        'InvalidStateCodeException',
      );
    }
    const stateDescription = withDescription ? optionalString(item, 'StateDescription') : undefined;
    return { userCode: userCode ?? '', stateCode, stateDescription };
  };
  if (endpoint === 'change') return [one(body)];
  const list = body.States;
  if (!Array.isArray(list)) throw nullReference();
  return list.map((item: unknown) => {
    if (!isRecord(item)) throw nullReference();
    return one(item);
  });
}

/** Synchronous servers validate the source inside the request; returns the source id. */
export function checkSource(body: Record<string, unknown>, sourceIds: readonly string[]): string {
  const source = body.SourceId;
  if (source === undefined || source === null || source === '') {
    throw new HttpFailure(400, 'Source id is required', 'InvalidSourceException');
  }
  if (typeof source !== 'string') throw nullReference();
  if (!sourceIds.includes(source)) {
    throw new HttpFailure(400, `Source id "${source}" not found`, 'InvalidSourceException');
  }
  return source;
}

/** The 500 of a current server whose queue holds `n` batches. */
export function floodFailure(n: number): HttpFailure {
  return new HttpFailure(
    500,
    `State queue is flooded with ${n} batches`,
    'StateQueueHealthException',
  );
}

/**
 * Writes the answer: 200 with an empty body when `err` is undefined, else the error as ASP.NET
 * shapes it (`{"Message"}` below 500, the exception body from 500). Sets `record.status` and
 * `record.message`.
 */
export function writeAnswer(res: ServerResponse, record: RtaRequestRecord, err: unknown): void {
  if (err === undefined) {
    record.status = 200;
    res.writeHead(200, { 'content-length': '0' });
    res.end();
    return;
  }
  const failure =
    err instanceof HttpFailure ? err : new HttpFailure(500, String(err), 'InternalError');
  record.status = failure.status;
  record.message = failure.message;
  const payload =
    failure.status < 500
      ? { Message: failure.message }
      : {
          Message: 'An error has occurred.',
          ExceptionMessage: failure.message,
          ExceptionType: failure.exceptionType,
          StackTrace: null,
        };
  const text = JSON.stringify(payload);
  res.writeHead(failure.status, {
    ...failure.headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
  });
  res.end(text);
}
