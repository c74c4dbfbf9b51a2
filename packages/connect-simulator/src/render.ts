/** Rendering helpers: timestamps, ISO strings, the raw CTR CSV row (docs/historical-formats.md#raw-ctr-csv). */

/** ISO-8601 with milliseconds (agent events). */
export function isoMs(ms: number): string {
  return new Date(ms).toISOString();
}

/** ISO-8601 with whole seconds (CTRs, intervals). */
export function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** The last path segment of an ARN. */
export function arnId(arn: string): string {
  const i = arn.lastIndexOf('/');
  return i < 0 ? arn : arn.slice(i + 1);
}

/** RFC 4180 quoting of one field. */
export function csvQuote(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** One CSV line (no line end) from already-stringified fields. */
export function csvJoin(fields: readonly string[]): string {
  return fields.map(csvQuote).join(',');
}

/** `2026-12-06T08-15-00` (for object keys). */
export function keyTime(ms: number): string {
  return isoSeconds(ms).slice(0, 19).replace(/:/g, '-');
}
