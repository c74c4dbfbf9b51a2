import type { FormulaEscape } from './types.js';

/**
 * RFC 4180 field writing shared by every CSV this package writes (docs/historical-formats.md#csv-rules).
 *
 * Rows are written with this small quoter rather than papaparse's `unparse`: `unparse` takes a
 * whole array of rows and re-inspects its configuration per call, and the CSV path must stream
 * one row at a time at close to `JSON.parse` speed (see DESIGN.md). papaparse is used where it
 * fits: parsing the agent performance report, and parsing our output in the tests.
 */

/** Characters that make a field need quoting. */
export const NEEDS_QUOTES = /[",\r\n]/;
/** Every `"`, to double. */
export const QUOTE_ALL = /"/g;
/** A NUL character: dropped from text (docs/historical-formats.md#csv-rules). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is what is matched
export const NUL_ALL = /\u0000/g;
/**
 * The first characters that make a spreadsheet read a cell as a formula (OWASP's list): `=`, `+`,
 * `-`, `@`, tab and carriage return.
 */
export const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * A text value as one CSV field: NUL characters dropped; with `'quote-prefix'`, text that a
 * spreadsheet would read as a formula gets a leading `'` (and is then always quoted); quoted per
 * RFC 4180 when it holds `,`, `"`, CR or LF.
 *
 * @example
 * csvText('=1+1', 'quote-prefix'); // `"'=1+1"`
 */
export function csvText(value: string, formulaEscape: FormulaEscape = 'none'): string {
  let v = value;
  if (v.indexOf('\u0000') >= 0) v = v.replace(NUL_ALL, '');
  if (formulaEscape === 'quote-prefix' && FORMULA_START.test(v)) {
    return `"'${v.replace(QUOTE_ALL, '""')}"`;
  }
  return NEEDS_QUOTES.test(v) ? `"${v.replace(QUOTE_ALL, '""')}"` : v;
}

/**
 * Writes one CSV field per RFC 4180: a value containing `,`, `"`, CR or LF is quoted with inner
 * quotes doubled; `null`/`undefined` is an empty field; numbers are written in JavaScript's
 * shortest round-trip form (the JSON text for integers). NUL characters are dropped from text;
 * `formulaEscape: 'quote-prefix'` defuses text a spreadsheet would run as a formula.
 *
 * @example
 * csvField('a,"b"'); // '"a,""b"""'
 * csvField(null); // ''
 */
export function csvField(
  value: string | number | boolean | null | undefined,
  formulaEscape: FormulaEscape = 'none',
): string {
  if (value === null || value === undefined) return '';
  if (typeof value !== 'string') return String(value);
  return csvText(value, formulaEscape);
}

/**
 * Writes one CSV line (fields joined by `,`, ending in `\n`).
 *
 * @example
 * csvLine(['a', 1, null]); // 'a,1,\n'
 */
export function csvLine(
  values: ReadonlyArray<string | number | boolean | null | undefined>,
  formulaEscape: FormulaEscape = 'none',
): string {
  let line = '';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) line += ',';
    line += csvField(values[i], formulaEscape);
  }
  return `${line}\n`;
}

/**
 * The id in an ARN: its last path segment
 * (`arn:aws:connect:…:instance/…/queue/9a9a…` → `9a9a…`). A value without `/` is returned as is.
 *
 * @example
 * arnId('arn:aws:connect:eu-west-2:111122223333:instance/abc/agent/a1'); // 'a1'
 */
export function arnId(arn: string): string {
  const slash = arn.lastIndexOf('/');
  return slash < 0 ? arn : arn.slice(slash + 1);
}
