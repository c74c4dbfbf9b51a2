/**
 * Helpers for benchmarks (`bench/*.bench.ts`): a seeded PRNG, timing, peak RSS and the
 * machine-readable `BENCH <name> key=value ...` line every benchmark prints.
 */

/**
 * A small, fast, seeded PRNG (mulberry32), so generated benchmark data is identical per run.
 *
 * @example
 * const rand = seededRandom(42);
 * const x = rand(); // 0 <= x < 1
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Peak resident set size of this process so far, in MB (from `process.resourceUsage().maxRSS`).
 *
 * @example
 * console.log(peakRssMb());
 */
export function peakRssMb(): number {
  return Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10;
}

/** Current resident set size in MB. */
export function rssMb(): number {
  return Math.round((process.memoryUsage.rss() / 1024 / 1024) * 10) / 10;
}

/**
 * Runs `fn` and returns its result with the elapsed wall time in milliseconds.
 *
 * @example
 * const { ms } = await timed(() => work());
 */
export async function timed<T>(fn: () => Promise<T> | T): Promise<{ result: T; ms: number }> {
  const start = process.hrtime.bigint();
  const result = await fn();
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  return { result, ms };
}

/** Values printed on a BENCH line. */
export type BenchFields = Record<string, number | string | boolean>;

function formatValue(v: number | string | boolean): string {
  if (typeof v === 'number') {
    if (Number.isInteger(v)) return String(v);
    return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toFixed(3);
  }
  return String(v).replace(/\s+/g, '_');
}

/**
 * Prints the machine-readable result line `BENCH <name> key=value ...` on stdout.
 *
 * @example
 * printBench('ctr-csv', { mb_per_s: 180, ratio_vs_parse_only: 0.86, peak_rss_mb: 74 });
 */
export function printBench(name: string, fields: BenchFields): void {
  const parts = Object.entries(fields).map(([k, v]) => `${k}=${formatValue(v)}`);
  process.stdout.write(`BENCH ${name} ${parts.join(' ')}\n`);
}

/**
 * Prints a small human-readable table on stdout.
 *
 * @example
 * printTable([{ variant: 'mapper', mb_per_s: 180 }, { variant: 'parse-only', mb_per_s: 210 }]);
 */
export function printTable(rows: ReadonlyArray<BenchFields>): void {
  if (rows.length === 0) return;
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cells = rows.map((r) => cols.map((c) => (r[c] === undefined ? '' : formatValue(r[c]))));
  const widths = cols.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]?.length ?? 0)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(widths[i] ?? 0)).join('  ');
  process.stdout.write(`${line(cols)}\n${line(widths.map((w) => '-'.repeat(w)))}\n`);
  for (const row of cells) process.stdout.write(`${line(row)}\n`);
}
