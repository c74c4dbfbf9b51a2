/** Keeping the authentication key out of errors and logs, in every form a server might echo it. */
import type { RedactOptions } from '@connect-wfm/core';

/**
 * The authentication key is redacted wherever it occurs, whatever its length: the whole-token rule
 * for short secrets (meant for one-letter test passwords) would leave a short key visible inside
 * other text.
 */
export const KEY_REDACTION: RedactOptions = { wholeTokenBelow: 0 };

/**
 * Every form in which a server might echo the key beyond core's raw, JSON- and URL-escaped ones:
 * base64 (standard and URL-safe, with and without padding) and `\uXXXX` escapes of every
 * character (lower- and upper-case hex).
 */
export function keyForms(key: string): string[] {
  const b64 = Buffer.from(key, 'utf8').toString('base64');
  const b64url = Buffer.from(key, 'utf8').toString('base64url');
  const units = [...key].flatMap((ch) => {
    const out: string[] = [];
    for (let i = 0; i < ch.length; i++) out.push(ch.charCodeAt(i).toString(16).padStart(4, '0'));
    return out;
  });
  const lower = units.map((u) => `\\u${u}`).join('');
  return [
    key,
    b64,
    b64.replace(/=+$/, ''),
    b64url,
    lower,
    lower.toUpperCase().replace(/\\U/g, '\\u'),
  ];
}
