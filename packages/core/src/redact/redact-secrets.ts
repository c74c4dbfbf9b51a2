import type { RedactOptions } from './types.js';

/** What a secret is replaced with. */
export const REDACTED = '[redacted]';

/**
 * Secrets at least this long are redacted wherever they occur, shorter ones only as whole tokens
 * (see {@link RedactOptions.wholeTokenBelow}).
 */
export const SUBSTRING_REDACTION_MIN = 8;

/** Every form in which a secret can show up in text: raw, JSON-escaped, URL-encoded. */
function formsOf(secret: string): string[] {
  const forms = new Set([secret, JSON.stringify(secret).slice(1, -1)]);
  try {
    forms.add(encodeURIComponent(secret));
  } catch {
    // A lone surrogate cannot be URL-encoded, so no URL-encoded form of this secret exists.
  }
  return [...forms];
}

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * `form` where it is neither preceded nor followed by a letter, digit or underscore. An escape
 * just before it (`\n`, `\t`, `\u00e9` in JSON, `%20` in a URL) ends the previous token, so in
 * `"line\npw"` the `pw` is still a token.
 */
const wholeToken = (form: string): RegExp =>
  new RegExp(
    `(?:(?<![\\p{L}\\p{N}_])|(?<=\\\\[nrtbf]|\\\\u[0-9A-Fa-f]{4}|%[0-9A-Fa-f]{2}))${escapeRegExp(form)}(?![\\p{L}\\p{N}_])`,
    'gu',
  );

/** Reads and checks {@link RedactOptions.wholeTokenBelow}. */
export function wholeTokenBelowOf(options: RedactOptions | undefined): number {
  const min = options?.wholeTokenBelow ?? SUBSTRING_REDACTION_MIN;
  if (!Number.isInteger(min) || min < 0) {
    throw new RangeError(`wholeTokenBelow must be a non-negative integer, got ${String(min)}`);
  }
  return min;
}

/**
 * Replaces every raw, JSON-escaped (`"` → `\"`, newline → `\n`) and URL-encoded occurrence of
 * each non-empty secret in `text` with `[redacted]`. Secrets shorter than
 * {@link RedactOptions.wholeTokenBelow} (default {@link SUBSTRING_REDACTION_MIN}) are replaced only
 * where they stand as a whole token; longer ones wherever they occur. Longer forms are replaced
 * first, so a secret that contains another one is replaced whole. Empty secrets are ignored.
 *
 * This is a second line of defence for text quoted from elsewhere (a server's message, a library's
 * error): code should never put a secret into a message in the first place.
 *
 * @param text - the text to clean
 * @param secrets - the secrets to remove; empty strings are ignored
 * @param options - see {@link RedactOptions}
 * @returns `text` with every secret replaced (the same string when none occurs)
 * @throws RangeError when `options.wholeTokenBelow` is not a non-negative integer
 *
 * @example
 * redactSecrets('login as bob with hunter2-secret failed', ['hunter2-secret']);
 * // 'login as bob with [redacted] failed'
 * redactSecrets('Upload failed: server said p', ['p']); // 'Upload failed: server said [redacted]'
 * redactSecrets('key="a\\"b-secret"', ['a"b-secret']); // 'key="[redacted]"'
 */
export function redactSecrets(
  text: string,
  secrets: readonly string[],
  options?: RedactOptions,
): string {
  const min = wholeTokenBelowOf(options);
  /** form → replaced anywhere (true) or only as a whole token (false). */
  const forms = new Map<string, boolean>();
  for (const secret of secrets) {
    if (secret.length === 0) continue;
    const anywhere = secret.length >= min;
    for (const form of formsOf(secret)) forms.set(form, anywhere || forms.get(form) === true);
  }
  const longestFirst = [...forms].sort(([a], [b]) => b.length - a.length);
  let out = text;
  for (const [form, anywhere] of longestFirst) {
    if (!out.includes(form)) continue;
    out = anywhere ? out.split(form).join(REDACTED) : out.replace(wholeToken(form), REDACTED);
  }
  return out;
}
