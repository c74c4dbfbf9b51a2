/** Keeps the authentication key out of messages, errors and logs. */
import { isError } from './error-like.js';

const REDACTED = '[redacted]';

/** Every form in which a secret could appear in text: raw, JSON-escaped, URL-encoded. */
function forms(secret: string): string[] {
  const all = new Set([secret, JSON.stringify(secret).slice(1, -1), encodeURIComponent(secret)]);
  return [...all].filter((f) => f.length > 0);
}

/**
 * Replaces every occurrence of `secret` in `text` with `[redacted]`.
 *
 * @example
 * redactSecret('bad key abc', 'abc'); // 'bad key [redacted]'
 */
export function redactSecret(text: string, secret: string): string {
  if (secret === '') return text;
  let out = text;
  for (const f of forms(secret)) out = out.split(f).join(REDACTED);
  return out;
}

function containsSecret(err: Error, secret: string): boolean {
  const text = `${err.message}\n${err.stack ?? ''}`;
  return forms(secret).some((f) => text.includes(f));
}

/**
 * Returns `err` unchanged when neither it nor its `cause` chain mentions `secret`; otherwise a copy
 * of the chain with the secret redacted (name, message, `code` kept).
 *
 * @example
 * const safe = sanitizeCause(err, key);
 */
export function sanitizeCause(err: unknown, secret: string, depth = 0): unknown {
  if (!isError(err) || depth > 8) {
    return typeof err === 'string' ? redactSecret(err, secret) : err;
  }
  const cause = err.cause === undefined ? undefined : sanitizeCause(err.cause, secret, depth + 1);
  if (!containsSecret(err, secret) && cause === err.cause) return err;
  const copy = new Error(
    redactSecret(err.message, secret),
    cause === undefined ? undefined : { cause },
  );
  copy.name = err.name;
  copy.stack = redactSecret(err.stack ?? '', secret);
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') Object.assign(copy, { code });
  return copy;
}
