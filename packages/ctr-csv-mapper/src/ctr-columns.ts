import { arnId, csvText } from './csv-field.js';
import type { ArnMode, CtrRecord, FormulaEscape } from './types.js';

/**
 * The raw CTR CSV's columns, defined once (docs/historical-formats.md#raw-ctr-csv): each column's
 * name, the kind of value it holds and where in the record it comes from. The header, the generic
 * row writer ({@link ctrCsvRow}) and the statistics of a test are derived from this list; the
 * hand-specialized byte writer (`ctr-row-writer.ts`) is checked against {@link ctrCsvRow} by a
 * property test.
 */
export const CTR_CSV_SPEC = [
  { column: 'Agent_ARN', kind: 'arn', value: (r: CtrRecord) => r.Agent?.ARN },
  {
    column: 'Agent_AfterContactWorkDuration',
    kind: 'number',
    value: (r: CtrRecord) => r.Agent?.AfterContactWorkDuration,
  },
  {
    column: 'Agent_AgentInteractionDuration',
    kind: 'number',
    value: (r: CtrRecord) => r.Agent?.AgentInteractionDuration,
  },
  {
    column: 'Agent_CustomerHoldDuration',
    kind: 'number',
    value: (r: CtrRecord) => r.Agent?.CustomerHoldDuration,
  },
  { column: 'Agent_Username', kind: 'text', value: (r: CtrRecord) => r.Agent?.Username },
  { column: 'Channel', kind: 'text', value: (r: CtrRecord) => r.Channel },
  { column: 'ContactID', kind: 'text', value: (r: CtrRecord) => r.ContactId },
  { column: 'InitiationMethod', kind: 'text', value: (r: CtrRecord) => r.InitiationMethod },
  {
    column: 'InitiationTimestamp',
    kind: 'timestamp',
    value: (r: CtrRecord) => r.InitiationTimestamp,
  },
  { column: 'Queue_ARN', kind: 'arn', value: (r: CtrRecord) => r.Queue?.ARN },
  { column: 'Queue_Duration', kind: 'number', value: (r: CtrRecord) => r.Queue?.Duration },
  {
    column: 'Queue_EnqueueTimestamp',
    kind: 'timestamp',
    value: (r: CtrRecord) => r.Queue?.EnqueueTimestamp,
  },
  { column: 'Queue_Name', kind: 'text', value: (r: CtrRecord) => r.Queue?.Name },
  {
    column: 'SystemEndpoint_Address',
    kind: 'text',
    value: (r: CtrRecord) => r.SystemEndpoint?.Address,
  },
  {
    column: 'TransferCompletedTimestamp',
    kind: 'timestamp',
    value: (r: CtrRecord) => r.TransferCompletedTimestamp,
  },
  {
    column: 'TransferredToEndpoint',
    kind: 'text',
    value: (r: CtrRecord) => r.TransferredToEndpoint?.Address,
  },
] as const satisfies ReadonlyArray<{
  readonly column: string;
  readonly kind: 'arn' | 'number' | 'text' | 'timestamp';
  readonly value: (r: CtrRecord) => string | number | null | undefined;
}>;

/** The column names of a column spec, as a tuple of literals. */
type ColumnsOf<T extends ReadonlyArray<{ readonly column: string }>> = {
  readonly [K in keyof T]: T[K] extends { readonly column: infer C } ? C : never;
};

/** The 16 columns of the raw CTR CSV, in order. */
export const CTR_CSV_COLUMNS = CTR_CSV_SPEC.map((c) => c.column) as unknown as ColumnsOf<
  typeof CTR_CSV_SPEC
>;

/** The header line of the raw CTR CSV, without the line ending. */
export const CTR_CSV_HEADER: string = CTR_CSV_COLUMNS.join(',');

/** One field of the raw CTR CSV, by the column's kind. */
function ctrField(
  kind: 'arn' | 'number' | 'text' | 'timestamp',
  value: string | number | null | undefined,
  mode: ArnMode,
  formulaEscape: FormulaEscape,
): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return String(value);
  if (kind === 'arn' && mode === 'id') return csvText(arnId(value), formulaEscape);
  return csvText(value, formulaEscape);
}

/**
 * Formats one CTR as a raw CSV row, with the trailing `\n`, straight from {@link CTR_CSV_SPEC}.
 *
 * @example
 * ctrCsvRow({ ContactId: 'c1', Channel: 'VOICE', Agent: null });
 * // ',,,,,VOICE,c1,,,,,,,,,\n'
 */
export function ctrCsvRow(
  record: CtrRecord,
  options: { arn?: ArnMode | undefined; formulaEscape?: FormulaEscape | undefined } = {},
): string {
  const mode = options.arn ?? 'id';
  const formulaEscape = options.formulaEscape ?? 'none';
  let line = '';
  for (let i = 0; i < CTR_CSV_SPEC.length; i++) {
    const c = CTR_CSV_SPEC[i] as (typeof CTR_CSV_SPEC)[number];
    if (i > 0) line += ',';
    line += ctrField(c.kind, c.value(record), mode, formulaEscape);
  }
  return `${line}\n`;
}

/**
 * The CSV file name for an S3 object key (docs/historical-formats.md#file-names): the key's base
 * name with every `:` replaced by `_` and `.csv` appended. The key is used as given (decode S3
 * event keys first).
 *
 * @example
 * csvFileNameFor('connect/2026/11/24/08/ctr-1-2026-11-24-08:15:00-abc'); // 'ctr-1-2026-11-24-08_15_00-abc.csv'
 */
export function csvFileNameFor(objectKey: string): string {
  const base = objectKey.slice(objectKey.lastIndexOf('/') + 1);
  return `${base.replaceAll(':', '_')}.csv`;
}
