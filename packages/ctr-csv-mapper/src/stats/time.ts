/**
 * Timestamps of the statistics: Connect's ISO-8601 text to epoch milliseconds, and back.
 */

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Two ASCII digits at `i` as a number, or -1. */
function twoDigits(s: string, i: number): number {
  const a = s.charCodeAt(i) - 0x30;
  const b = s.charCodeAt(i + 1) - 0x30;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

/**
 * Days from 1970-01-01 to a date of the proleptic Gregorian calendar (the well-known
 * "days from civil" arithmetic: years start in March, so the leap day ends a year).
 */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

/**
 * A timestamp in epoch ms, -Infinity when missing or unparseable. Connect's own shape,
 * `YYYY-MM-DDTHH:MM:SSZ` with every part in range, is computed with integer arithmetic (about
 * 2.5 times faster than `Date.parse` once warm, at two timestamps per record); anything else,
 * including out-of-range parts, goes to `Date.parse`, so the result is always what `Date.parse`
 * gives (a property test checks this).
 */
export function epochMs(ts: string | null | undefined): number {
  if (ts === null || ts === undefined) return Number.NEGATIVE_INFINITY;
  if (
    ts.length === 20 &&
    ts.charCodeAt(4) === 0x2d &&
    ts.charCodeAt(7) === 0x2d &&
    ts.charCodeAt(10) === 0x54 &&
    ts.charCodeAt(13) === 0x3a &&
    ts.charCodeAt(16) === 0x3a &&
    ts.charCodeAt(19) === 0x5a
  ) {
    const hi = twoDigits(ts, 0);
    const lo = twoDigits(ts, 2);
    const month = twoDigits(ts, 5);
    const day = twoDigits(ts, 8);
    const hour = twoDigits(ts, 11);
    const minute = twoDigits(ts, 14);
    const second = twoDigits(ts, 17);
    // Years below 1000 are left to Date.parse: Date.UTC maps 0-99 to 1900-1999.
    if (hi >= 10 && lo >= 0 && month >= 1 && month <= 12 && day >= 1) {
      const year = hi * 100 + lo;
      const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
      const days = month === 2 && leap ? 29 : (DAYS_IN_MONTH[month - 1] as number);
      if (day <= days && hour >= 0 && hour <= 23 && minute >= 0 && minute <= 59) {
        if (second >= 0 && second <= 59) {
          return (
            daysFromCivil(year, month, day) * 86_400_000 +
            hour * 3_600_000 +
            minute * 60_000 +
            second * 1000
          );
        }
      }
    }
  }
  const ms = Date.parse(ts);
  return Number.isNaN(ms) ? Number.NEGATIVE_INFINITY : ms;
}

/** `2026-11-24T08:15:00Z` for an epoch-ms interval start. */
export function isoSeconds(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}
