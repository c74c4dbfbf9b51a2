/** The RTA wire format: request bodies, server messages, state checks. */
import { z } from 'zod';
import { isError } from './error-like.js';
import { InvalidStateError } from './errors.js';
import type { RtaState } from './types.js';

/** A user code (or legacy snapshot id) must contain a character other than white space. */
const NOT_BLANK = /\S/;

/** Longest state code the server accepts. */
export const MAX_STATE_CODE_LENGTH = 300;
/** Most states per batch on older servers. */
export const LEGACY_MAX_BATCH_SIZE = 50;

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
 * Serializes `states[start..end)` into a batch body. `snapshotId` (legacy) is added to each state.
 *
 * @example
 * serializeBatch(batchPrefix('k', '1', false), states, 0, states.length);
 */
export function serializeBatch(
  prefix: string,
  states: readonly RtaState[],
  start: number,
  end: number,
  snapshotId?: string,
): string {
  // One JSON.stringify over plain objects is faster than per-field stringify and concatenation.
  const wire: WireState[] = new Array(end - start);
  for (let i = start; i < end; i++) {
    const s = states[i] as RtaState;
    wire[i - start] =
      snapshotId === undefined
        ? { UserCode: s.userCode, StateCode: s.stateCode, StateDescription: s.stateDescription }
        : {
            UserCode: s.userCode,
            StateCode: s.stateCode,
            StateDescription: s.stateDescription,
            SnapshotId: snapshotId,
          };
  }
  // `prefix` ends with `[`; the array's own `[` is dropped.
  return `${prefix}${JSON.stringify(wire).slice(1)}}`;
}

interface WireState {
  UserCode: string;
  StateCode: string;
  StateDescription: string;
  SnapshotId?: string;
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
 * Legacy servers reject a whole batch with 400 `No person found for UserCode X, SourceId S` when
 * one of its user codes has no person. Returns the user codes of `states` that such a message
 * names (each once, in batch order), or `[]` when the message is another one or names nobody in
 * the batch. A user code counts as named when it stands after `UserCode` as a whole word: bounded
 * by the start, white space, a quote, `,` `;` `:` or parentheses (a final `.` too); the
 * `, SourceId …` tail is ignored so that a user code such as `1` does not match the source id.
 *
 * @example
 * usersNamedNotFound('No person found for UserCode ghost, SourceId 1', states); // ['ghost']
 */
export function usersNamedNotFound(message: string, states: readonly RtaState[]): string[] {
  const at = NO_PERSON.exec(message);
  if (at === null) return [];
  const tail = message.slice(at.index + at[0].length).replace(SOURCE_TAIL, '');
  const named: string[] = [];
  const seen = new Set<string>();
  for (const state of states) {
    const code = state.userCode;
    if (seen.has(code)) continue;
    seen.add(code);
    if (standsAlone(tail, code)) named.push(code);
  }
  return named;
}

const NO_PERSON = /No person found for UserCodes?\b/i;
const SOURCE_TAIL = /[\s,;(]*\bSourceId\b[\s\S]*$/i;
const BOUNDARY = new Set([' ', '\t', '\n', '\r', '"', "'", ',', ';', ':', '(', ')', '[', ']']);

function standsAlone(text: string, word: string): boolean {
  if (word === '') return false;
  for (let i = text.indexOf(word); i >= 0; i = text.indexOf(word, i + 1)) {
    const before = i === 0 ? ' ' : (text[i - 1] as string);
    const end = i + word.length;
    const after = end >= text.length ? ' ' : (text[end] as string);
    const afterDot =
      after === '.' && (end + 1 >= text.length || /\s/.test(text[end + 1] as string));
    if (BOUNDARY.has(before) && (BOUNDARY.has(after) || afterDot)) return true;
  }
  return false;
}

/** What a 400 answer means. */
export type BadRequestKind = 'invalid-key' | 'unknown-source' | 'rejected';

/**
 * Classifies a 400 message: invalid authentication key, missing/unknown source, or anything else.
 *
 * @example
 * classifyBadRequest('Source id "9" not found'); // 'unknown-source'
 */
export function classifyBadRequest(message: string): BadRequestKind {
  if (/authentication\s*key/i.test(message)) return 'invalid-key';
  if (/source\s*id\b.*\b(required|not found|invalid)/i.test(message)) return 'unknown-source';
  if (/\bsource\b.*\bnot (found|valid)/i.test(message)) return 'unknown-source';
  return 'rejected';
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
