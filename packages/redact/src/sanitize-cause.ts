import { types } from 'node:util';
import { rebuildChain } from './chain.js';
import { redactSecrets, wholeTokenBelowOf } from './redact-secrets.js';
import type { RedactOptions } from './types.js';

/** True for any Error, whichever realm (VM context, Jest sandbox) created it. */
function isError(value: unknown): value is Error {
  return value instanceof Error || types.isNativeError(value);
}

/**
 * Returns `err` itself when neither it nor any error of its `cause` chain mentions a secret (in
 * any form {@link redactSecrets} knows); otherwise a copy of the chain, down to the last error
 * that mentions one, with every secret redacted.
 *
 * - Errors from another realm (a `vm` context, Node internals seen from Jest) count as errors.
 * - A copy is a plain `Error` keeping `name`, `message`, `stack` (all redacted) and a string
 *   (redacted) or number `code`; other own fields and the subclass are not kept.
 * - A string `err` or string cause at the end of the chain is redacted; other non-error values
 *   are returned as they are (their fields are not searched).
 * - The chain is followed to depth {@link MAX_CAUSE_DEPTH}; a longer chain is cut there (the copy
 *   at that depth has no cause), as what lies below was not examined. A cycle is kept.
 *
 * @param err - what was thrown or is about to become a `cause`
 * @param secrets - the secrets to remove; empty strings are ignored
 * @param options - see {@link RedactOptions}
 * @returns `err`, or a redacted copy
 * @throws RangeError when `options.wholeTokenBelow` is not a non-negative integer
 *
 * @example
 * try {
 *   await connect({ password });
 * } catch (err) {
 *   throw new UploadError('cannot connect', { cause: sanitizeCause(err, [password]) });
 * }
 */
export function sanitizeCause(
  err: unknown,
  secrets: readonly string[],
  options?: RedactOptions,
): unknown {
  wholeTokenBelowOf(options);
  const redact = (text: string): string => redactSecrets(text, secrets, options);
  if (!isError(err)) return typeof err === 'string' ? redact(err) : err;
  return rebuildChain<Error>(err, {
    isLink: isError,
    causeOf: (node) => ('cause' in node ? { value: node.cause } : undefined),
    isDirty: (node) => {
      const code = (node as { code?: unknown }).code;
      const text = [node.name, node.message, node.stack, typeof code === 'string' ? code : '']
        .map(String)
        .join('\n');
      return redact(text) !== text;
    },
    cleanTail: (value) => (typeof value === 'string' ? redact(value) : value),
    copy: (node) => {
      const copy = new Error(redact(String(node.message)));
      copy.name = redact(String(node.name));
      copy.stack = redact(typeof node.stack === 'string' ? node.stack : '');
      const code = (node as { code?: unknown }).code;
      if (typeof code === 'string') Object.assign(copy, { code: redact(code) });
      else if (typeof code === 'number') Object.assign(copy, { code });
      return copy;
    },
    link: (copy, _original, value) => {
      Object.defineProperty(copy, 'cause', {
        value,
        writable: true,
        enumerable: false,
        configurable: true,
      });
    },
  });
}
