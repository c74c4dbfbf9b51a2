/** The RTA wire format: request bodies, server messages, state checks. */
import { MAX_STATE_CODE_LENGTH } from '@connect-wfm/core';
import { z } from 'zod';
import { isError } from './error-like.js';
import { InvalidStateError } from './errors.js';
import type { RtaState } from './types.js';

/** A user code must contain a character other than white space. */
const NOT_BLANK = /\S/;

/** Most bytes of a reply body the client reads (enough for any error message). */
export const MAX_REPLY_BYTES = 64 * 1024;

/**
 * The constant start of every batch body of one client, up to and including `"States":[`.
 *
 * @example
 * batchPrefix('key', '1', false); // '{"AuthenticationKey":"key","SourceId":"1","IsSnapshot":false,"States":['
 */
export function batchPrefix(
  authenticationKey: string,
  sourceId: string,
  isSnapshot: boolean,
): string {
  return `{"AuthenticationKey":${JSON.stringify(authenticationKey)},"SourceId":${JSON.stringify(sourceId)},"IsSnapshot":${isSnapshot},"States":[`;
}

/**
 * The start of a snapshot chunk for `snapshot-id` servers: a top-level `SnapshotId` (the only
 * place those servers read it) and no `IsSnapshot`.
 *
 * @example
 * snapshotIdPrefix('key', '1', '2024-05-01T08:00:00.000Z'); // '{"AuthenticationKey":"key","SourceId":"1","SnapshotId":"2024-…","States":['
 */
export function snapshotIdPrefix(
  authenticationKey: string,
  sourceId: string,
  snapshotId: string,
): string {
  return `{"AuthenticationKey":${JSON.stringify(authenticationKey)},"SourceId":${JSON.stringify(sourceId)},"SnapshotId":${JSON.stringify(snapshotId)},"States":[`;
}

/**
 * Serializes `states` into a batch body after `prefix`.
 *
 * @example
 * serializeBatch(batchPrefix('k', '1', false), states);
 */
export function serializeBatch(prefix: string, states: readonly RtaState[]): string {
  // One JSON.stringify over plain objects is faster than per-field stringify and concatenation.
  const wire = states.map((s) => ({
    UserCode: s.userCode,
    StateCode: s.stateCode,
    StateDescription: s.stateDescription,
  }));
  // `prefix` ends with `[`; the array's own `[` is dropped.
  return `${prefix}${JSON.stringify(wire).slice(1)}}`;
}

/**
 * Keeps one state per user: the last one, user codes compared case-insensitively (the server
 * matches them so). The order is that of each kept state.
 *
 * @example
 * lastPerUser([a1, b1, A2]); // { states: [b1, A2], superseded: 1 }
 */
export function lastPerUser(states: readonly RtaState[]): {
  states: RtaState[];
  superseded: number;
} {
  const last = new Map<string, number>();
  for (let i = 0; i < states.length; i++) {
    last.set((states[i] as RtaState).userCode.toLowerCase(), i);
  }
  if (last.size === states.length) return { states: [...states], superseded: 0 };
  const kept = states.filter((s, i) => last.get(s.userCode.toLowerCase()) === i);
  return { states: kept, superseded: states.length - kept.length };
}

/**
 * Checks every state before anything is sent; throws {@link InvalidStateError} listing every bad one.
 *
 * @example
 * assertSendable([{ userCode: 'a', stateCode: 'Available', stateDescription: 'Available' }]);
 */
export function assertSendable(states: readonly RtaState[]): void {
  if (!Array.isArray(states)) {
    throw new InvalidStateError(['the states must be an array'], []);
  }
  let problems: string[] | undefined;
  let userCodes: string[] | undefined;
  for (let i = 0; i < states.length; i++) {
    const s = states[i] as Partial<RtaState> | null | undefined;
    const problem = stateProblem(s);
    if (problem === undefined) continue;
    const who =
      typeof s?.userCode === 'string' && NOT_BLANK.test(s.userCode) ? s.userCode : `#${i}`;
    problems ??= [];
    userCodes ??= [];
    problems.push(`state #${i} (${who}): ${problem}`);
    userCodes.push(who);
  }
  if (problems && userCodes) throw new InvalidStateError(problems, userCodes);
}

function stateProblem(s: Partial<RtaState> | null | undefined): string | undefined {
  if (typeof s !== 'object' || s === null) return 'not an object';
  if (typeof s.userCode !== 'string' || s.userCode === '') return 'userCode is empty';
  if (!NOT_BLANK.test(s.userCode)) return 'userCode is only white space';
  if (typeof s.stateCode !== 'string' || s.stateCode === '') return 'stateCode is empty';
  if (s.stateCode.length > MAX_STATE_CODE_LENGTH) {
    return `stateCode has ${s.stateCode.length} characters (at most ${MAX_STATE_CODE_LENGTH})`;
  }
  if (typeof s.stateDescription !== 'string') return 'stateDescription is not a string';
  return undefined;
}

const aspNetError = z.looseObject({
  Message: z.string().optional(),
  ExceptionMessage: z.string().optional(),
  message: z.string().optional(),
});

/**
 * The message in an error answer: ASP.NET's `{"Message": …}` (400) or
 * `{"Message": "An error has occurred.", "ExceptionMessage": …}` (500), a JSON string, or plain text.
 * `redact` is applied to the whole message, then long text is cut to 500 characters.
 *
 * @example
 * serverMessage('{"Message":"Source id is required"}', 'Bad Request'); // 'Source id is required'
 */
export function serverMessage(
  body: string,
  statusText: string,
  redact: (text: string) => string = (text) => text,
): string {
  const text = body.trim();
  let message = text;
  if (text.startsWith('{') || text.startsWith('"')) {
    try {
      const json: unknown = JSON.parse(text);
      if (typeof json === 'string') message = json;
      else {
        const parsed = aspNetError.safeParse(json);
        if (parsed.success) {
          message =
            parsed.data.ExceptionMessage ?? parsed.data.Message ?? parsed.data.message ?? text;
        }
      }
    } catch {
      // not JSON after all: keep the text
    }
  }
  if (message === '') message = statusText || '(no message)';
  // Redacted before the cut: a secret cut in half would no longer be recognised.
  message = redact(message);
  return message.length > 500 ? `${message.slice(0, 500)}…` : message;
}

/**
 * Every user code a "No person found" message names, as the server wrote it. The forms are
 * `No person found for UserCode X, DataSourceId N, SourceId S` (current code base),
 * `No person found for UserCode X, SourceId S` and `No person found for SourceId S and UserCode X`
 * (older ones); several may be joined in one message. The user code is taken whole up to the
 * fixed tail, so a user code equal to N or S is not misread.
 *
 * @example
 * namedNotFound('No person found for UserCode 7, DataSourceId 7, SourceId 1'); // ['7']
 */
export function namedNotFound(message: string): string[] {
  const named: string[] = [];
  for (const part of message.split(NO_PERSON_SPLIT).slice(1)) {
    const text = part.trim();
    const m = WITH_DATA_SOURCE.exec(text) ?? WITH_SOURCE.exec(text) ?? SOURCE_FIRST.exec(text);
    const code = m?.[1];
    if (code !== undefined && code !== '') named.push(code);
  }
  return named;
}

const NO_PERSON_SPLIT = /No person found for /i;
const WITH_DATA_SOURCE = /^UserCode (.+?), DataSourceId -?\d+, SourceId [\s\S]*$/;
const WITH_SOURCE = /^UserCode (.+?), SourceId [\s\S]*$/;
const SOURCE_FIRST = /^SourceId [\s\S]*? and UserCode (.+?)\.?\s*$/;

/**
 * The user codes of `states` that a "No person found" message names (compared
 * case-insensitively, each once, in batch order); `[]` when it names nobody in the batch.
 *
 * @example
 * usersNamedNotFound('No person found for UserCode ghost, DataSourceId 3, SourceId 1', states); // ['ghost']
 */
export function usersNamedNotFound(message: string, states: readonly RtaState[]): string[] {
  const named = new Set(namedNotFound(message).map((c) => c.toLowerCase()));
  if (named.size === 0) return [];
  const found: string[] = [];
  const seen = new Set<string>();
  for (const state of states) {
    const key = state.userCode.toLowerCase();
    if (!named.has(key) || seen.has(key)) continue;
    seen.add(key);
    found.push(state.userCode);
  }
  return found;
}

/** What an error answer means. */
export type AnswerKind =
  | 'invalid-key'
  | 'unknown-source'
  | 'no-logged-out-group'
  | 'content'
  | 'other';

/** The server's bad-key messages (InvalidAuthenticationKeyException, LegacyAuthenticationKeyException). */
const INVALID_KEY = [
  /^You supplied an invalid authentication key\b/i,
  /^Using the default authentication key with more than one tenant is not allowed/i,
];
const UNKNOWN_SOURCE = [
  /^Source id is required\b/i,
  /^Source id ".*" not found\b/i,
  /^Source id not found\b/i,
];
/** 500s about the request's content, which the same request gets again and again. */
const CONTENT = [
  /^State code is required\b/i,
  /can not exceed \d+ characters/i,
  /^Sequence contains more than one matching element/i,
  /^Object reference not set to an instance of an object/i,
];

/**
 * Classifies the message of an error answer by the server's own wording: a 400 that merely
 * mentions "AuthenticationKey" is not a bad-key answer.
 *
 * @example
 * classifyAnswer('Source id "9" not found'); // 'unknown-source'
 */
export function classifyAnswer(message: string): AnswerKind {
  const text = message.trim();
  if (INVALID_KEY.some((r) => r.test(text))) return 'invalid-key';
  if (UNKNOWN_SOURCE.some((r) => r.test(text))) return 'unknown-source';
  if (/^No Logged out StateGroup found/i.test(text)) return 'no-logged-out-group';
  if (CONTENT.some((r) => r.test(text))) return 'content';
  return 'other';
}

const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * The TLS certificate-verification code in an error's cause chain, if any.
 *
 * @example
 * tlsCertificateCode(err); // 'SELF_SIGNED_CERT_IN_CHAIN' | undefined
 */
export function tlsCertificateCode(err: unknown): string | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 8 && isError(current); depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && TLS_CODES.has(code)) return code;
    current = current.cause;
  }
  return undefined;
}

/**
 * A short description of a transport failure (`fetch failed: connect ECONNREFUSED …`).
 *
 * @example
 * describeTransportError(err); // 'fetch failed: ECONNREFUSED connect ECONNREFUSED 127.0.0.1:1'
 */
export function describeTransportError(err: unknown): string {
  const parts: string[] = [];
  let current: unknown = err;
  for (let depth = 0; depth < 4 && current !== undefined; depth++) {
    if (isError(current)) {
      const code = (current as { code?: unknown }).code;
      parts.push(typeof code === 'string' ? `${code} ${current.message}` : current.message);
      current = current.cause;
    } else {
      parts.push(String(current));
      break;
    }
  }
  return parts.join(': ');
}
