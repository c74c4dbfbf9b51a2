/** One HTTP request to the RTA service: its own time limit, a bounded reply, a typed outcome. */
import { sanitizeCause } from '@connect-wfm/core';
import { type Agent, fetch } from 'undici';
import { retryAfterMs } from './backoff.js';
import {
  InvalidAuthenticationKeyError,
  NoLoggedOutStateGroupError,
  RejectedBatchError,
  RtaAbortedError,
  RtaHttpError,
  TeleoptiRtaError,
  TlsCertificateError,
  UnknownSourceError,
} from './errors.js';
import { KEY_REDACTION } from './key-redaction.js';
import type { RtaRequestKind, RtaRetryReason } from './types.js';
import {
  classifyAnswer,
  describeTransportError,
  MAX_REPLY_BYTES,
  serverMessage,
  tlsCertificateCode,
} from './wire.js';

/** What one client's attempts share: the connection pool, the endpoint and the key redaction. */
export interface Transport {
  readonly agent: Agent;
  /** The endpoint base, as errors name it. */
  readonly endpoint: string;
  readonly timeoutMs: number;
  readonly sourceId: string;
  /** Every form of the authentication key (see `keyForms`). */
  readonly keyForms: string[];
  /** Removes every form of the authentication key from a text. */
  readonly redact: (text: string) => string;
}

/** One request to send: its kind, address and body. */
export interface RequestSpec {
  kind: RtaRequestKind;
  url: URL;
  body: string;
  /** Number of states in the body. */
  states: number;
  /** User codes of the body's states, computed only when a rejection needs them. */
  userCodes: () => string[];
}

/** How one attempt ended when it did not throw: accepted, or worth a retry (and why). */
export type AttemptResult =
  | { ok: true }
  | {
      ok: false;
      reason: RtaRetryReason;
      status?: number;
      message: string;
      cause?: unknown;
      /** What a 503/429 `Retry-After` header asked for, in ms. */
      retryAfterMs?: number;
    };

class Timeout extends Error {
  constructor(ms: number) {
    super(`no complete answer within ${ms} ms`);
    this.name = 'TimeoutError';
  }
}

/** One HTTP attempt with its own time limit; reads at most MAX_REPLY_BYTES of the reply. */
export async function attemptRequest(
  transport: Transport,
  spec: RequestSpec,
  signal: AbortSignal | undefined,
  what: string,
): Promise<AttemptResult> {
  const controller = new AbortController();
  const timeout = new Timeout(transport.timeoutMs);
  const timer = setTimeout(() => controller.abort(timeout), transport.timeoutMs);
  const onAbort = () => controller.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const res = await fetch(spec.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', accept: 'application/json' },
      body: spec.body,
      dispatcher: transport.agent,
      signal: controller.signal,
      // A redirect is never followed: a 302 to a page answering 200 would count the states as
      // accepted, and a 307 would post the authentication key to wherever it points.
      redirect: 'manual',
    });
    if (res.status >= 200 && res.status < 300) {
      // Accepted whatever the body says, even when it breaks off: the server has answered.
      // It is read (a bounded prefix) only so that the connection can be reused.
      await readPrefix(res.body, MAX_REPLY_BYTES).catch(() => '');
      return { ok: true };
    }
    const text = await readPrefix(res.body, MAX_REPLY_BYTES);
    const redact = transport.redact;
    if (res.status >= 300 && res.status < 400) {
      const location = res.headers.get('location');
      throw new RtaHttpError(
        transport.endpoint,
        res.status,
        redact(
          `a redirect to ${(location ?? '(no Location header)').slice(0, 500)}; redirects are not followed: set baseUrl to the final address`,
        ),
      );
    }
    const message = serverMessage(text, res.statusText, redact);
    const kind = res.status === 400 || res.status >= 500 ? classifyAnswer(message) : 'other';
    if (kind === 'invalid-key') {
      throw new InvalidAuthenticationKeyError(transport.endpoint, res.status, message);
    }
    if (kind === 'unknown-source') {
      throw new UnknownSourceError(transport.endpoint, transport.sourceId, res.status, message);
    }
    if (kind === 'no-logged-out-group') {
      throw new NoLoggedOutStateGroupError(transport.endpoint, res.status, message);
    }
    if (res.status === 400 || (res.status >= 500 && kind === 'content')) {
      throw new RejectedBatchError(transport.endpoint, res.status, message, spec.userCodes());
    }
    // 501 and 505 are answers about the request itself, which a retry does not change.
    if (
      (res.status >= 500 && res.status !== 501 && res.status !== 505) ||
      res.status === 408 ||
      res.status === 429
    ) {
      const asked =
        res.status === 503 || res.status === 429
          ? retryAfterMs(res.headers.get('retry-after'))
          : undefined;
      return {
        ok: false,
        reason: 'server-error',
        status: res.status,
        message,
        ...(asked === undefined ? {} : { retryAfterMs: asked }),
      };
    }
    throw new RtaHttpError(transport.endpoint, res.status, message);
  } catch (err) {
    if (err instanceof TeleoptiRtaError) throw err;
    if (signal?.aborted) throw new RtaAbortedError(what, signal.reason);
    if (controller.signal.aborted && controller.signal.reason === timeout) {
      return { ok: false, reason: 'timeout', message: timeout.message, cause: timeout };
    }
    const cause = sanitizeCause(err, transport.keyForms, KEY_REDACTION);
    const tlsCode = tlsCertificateCode(err);
    if (tlsCode !== undefined) throw new TlsCertificateError(transport.endpoint, tlsCode, cause);
    return {
      ok: false,
      reason: 'network',
      message: transport.redact(describeTransportError(err)),
      cause,
    };
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * Reads at most `limit` bytes of a reply body as UTF-8 and cancels the rest, so a reply of any
 * size costs bounded memory (issue: a 1 GiB answer once cost 2 GB).
 */
async function readPrefix(body: ReadableStream<Uint8Array> | null, limit: number): Promise<string> {
  if (body === null) return '';
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < limit) {
      const { done, value } = await reader.read();
      if (done) return Buffer.concat(chunks, size).toString('utf8');
      const room = limit - size;
      const part = value.byteLength > room ? value.subarray(0, room) : value;
      chunks.push(part);
      size += part.byteLength;
    }
    await reader.cancel().catch(() => {});
    // A cut multi-byte character decodes as U+FFFD; the message is cut at 500 characters anyway.
    return Buffer.concat(chunks, size).toString('utf8');
  } finally {
    reader.releaseLock();
  }
}
