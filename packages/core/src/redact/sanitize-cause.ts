import { inspect, types } from 'node:util';
import { rebuildChain } from './chain.js';
import { redactSecrets, wholeTokenBelowOf } from './redact-secrets.js';
import type { RedactOptions } from './types.js';

/** True for any Error, whichever realm (VM context, Jest sandbox) created it. */
function isError(value: unknown): value is Error {
  return value instanceof Error || types.isNativeError(value);
}

/**
 * How a value is looked at for secrets: everything `util.inspect(value, { showHidden: true,
 * depth: null })` would print (hidden fields, the whole `cause` chain, nested objects), on one
 * line, with strings whole.
 */
const SEARCH_VIEW = {
  showHidden: true,
  depth: Number.POSITIVE_INFINITY,
  maxArrayLength: 1000,
  maxStringLength: Number.POSITIVE_INFINITY,
  breakLength: Number.POSITIVE_INFINITY,
  compact: true,
} as const;

/** What a non-error value that holds a secret is replaced with: how it prints, redacted. */
function printed(value: unknown, redact: (text: string) => string): string {
  try {
    return redact(inspect(value, { depth: 4, breakLength: Number.POSITIVE_INFINITY }));
  } catch {
    return '[a value that could not be printed]';
  }
}

/**
 * Returns `err` itself when no secret (in any form {@link redactSecrets} knows) shows anywhere in
 * it: not in its text, its other fields, its `cause` chain or anything those hold, as far as
 * `util.inspect(err, { showHidden: true, depth: null })` would print it. Otherwise a copy of the
 * chain down to the last error below which nothing holds a secret, with every secret redacted.
 *
 * - Errors from another realm (a `vm` context, Node internals seen from Jest) count as errors.
 * - A copy is a plain `Error` keeping `name`, `message`, `stack` and every own field that is a
 *   string (redacted), number, boolean or bigint (`code`, `errno`, `syscall`, ...); fields that
 *   hold objects and the subclass are not kept, since that is where a secret may sit.
 * - A string at the end of the chain is redacted; any other non-error value there that holds a
 *   secret is replaced by how it prints, redacted (a string).
 * - The chain is followed to depth {@link MAX_CAUSE_DEPTH}; when a secret is still below that, the
 *   copy at that depth has no cause. A cycle is kept.
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
  /** True when a secret shows in `value` or anything it holds (or it cannot be printed). */
  const holdsSecret = (value: unknown): boolean => {
    if (typeof value === 'string') return redact(value) !== value;
    if (typeof value !== 'object' && typeof value !== 'function') return false;
    if (value === null) return false;
    try {
      const text = inspect(value, SEARCH_VIEW);
      if (redact(text) !== text) return true;
    } catch {
      return true;
    }
    if (!isError(value)) return false;
    // What inspect may not show as it is: the raw text fields.
    const code = (value as { code?: unknown }).code;
    const text = [value.name, value.message, value.stack, typeof code === 'string' ? code : '']
      .map(String)
      .join('\n');
    return redact(text) !== text;
  };
  if (!holdsSecret(err)) return err;
  if (!isError(err)) return typeof err === 'string' ? redact(err) : printed(err, redact);
  return rebuildChain<Error>(err, {
    isLink: isError,
    causeOf: (node) => ('cause' in node ? { value: node.cause } : undefined),
    // A node's view includes its cause chain, so this holds down to the deepest node below
    // which nothing holds a secret; that is where the copies end.
    isDirty: holdsSecret,
    cleanTail: (value) =>
      typeof value === 'string'
        ? redact(value)
        : holdsSecret(value)
          ? printed(value, redact)
          : value,
    copy: (node) => {
      const copy = new Error(redact(String(node.message)));
      copy.name = redact(String(node.name));
      copy.stack = redact(typeof node.stack === 'string' ? node.stack : '');
      for (const key of Object.keys(node)) {
        if (key === 'cause' || key === 'message' || key === 'name' || key === 'stack') continue;
        let value: unknown;
        try {
          value = (node as unknown as Record<string, unknown>)[key];
        } catch {
          continue;
        }
        if (typeof value === 'string') Object.assign(copy, { [key]: redact(value) });
        else if (['number', 'boolean', 'bigint'].includes(typeof value)) {
          Object.assign(copy, { [key]: value });
        }
      }
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
