/** Control characters in names and in text quoted from elsewhere. */

/**
 * Characters refused in file names and `remoteDir`: C0 controls (CR, LF, ESC, TAB…), DEL, C1
 * controls, the Unicode line and paragraph separators and the bidirectional overrides and
 * isolates (they make a name display as another one).
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;
const CONTROL_ALL = new RegExp(CONTROL.source, 'gu');

/** One character as a `\u` escape. */
const uEscape = (c: string): string =>
  `\\u${(c.codePointAt(0) as number).toString(16).padStart(4, '0')}`;

/** Where the first refused control character of `text` is, in words, or `undefined`. */
export function controlCharacterProblem(text: string): string | undefined {
  const match = CONTROL.exec(text);
  if (match === null) return undefined;
  const code = (match[0].codePointAt(0) as number).toString(16).toUpperCase().padStart(4, '0');
  return `it contains the control character U+${code} at index ${match.index} (control characters, line breaks and bidirectional overrides are refused)`;
}

/**
 * A name (file name, path) quoted for a message: JSON-escaped, and every character
 * {@link controlCharacterProblem} refuses written as a `\u` escape, so none is printed raw.
 */
export const quoted = (text: string): string => JSON.stringify(text).replace(CONTROL_ALL, uEscape);

/** C0/C1 control characters, each as a `\u` escape. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const C0_C1 = /[\u0000-\u001f\u007f-\u009f]/g;

/** `text` with its C0/C1 control characters replaced by `\u` escapes, so it cannot drive a terminal. */
export const escapeControls = (text: string): string => text.replace(C0_C1, uEscape);
