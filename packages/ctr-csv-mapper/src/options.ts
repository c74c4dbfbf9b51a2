import { configProblemsFrom } from '@connect-wfm/core';
import { z } from 'zod';
import { InvalidOptionsError } from './errors.js';

/** zod schemas of the public options: unknown keys are rejected and every problem is reported. */

const fn = z.custom<(...args: never[]) => unknown>((v) => typeof v === 'function', {
  message: 'expected a function',
});
const arn = z.enum(['id', 'full']);
const interval = z.union([z.literal(15), z.literal(30), z.literal(60)], {
  message: 'expected 15, 30 or 60',
});
const seconds = z.number().finite().nonnegative();
const formulaEscape = z.enum(['none', 'quote-prefix']);

const loggerSchema = z.object({ debug: fn, info: fn, warn: fn, error: fn });

export const readOptionsSchema = z.strictObject({
  sourceName: z.string().optional(),
  maxRecordBytes: z.number().int().min(2).optional(),
  compression: z.enum(['auto', 'gzip', 'none']).optional(),
  maxBadBytes: z.number().int().nonnegative().optional(),
  onBadRecord: fn.optional(),
  onProgress: fn.optional(),
  logger: loggerSchema.optional(),
});

export const csvOptionsSchema = z.strictObject({
  arn: arn.optional(),
  header: z.boolean().optional(),
  onBadRecord: fn.optional(),
  chunkBytes: z.number().int().positive().optional(),
  formulaEscape: formulaEscape.optional(),
});

export const statsOptionsSchema = z.strictObject({
  intervalMinutes: interval.optional(),
  slaSeconds: seconds.optional(),
  shortAbandonSeconds: seconds.optional(),
  arn: arn.optional(),
});

export const agentPerformanceOptionsSchema = z.strictObject({
  split15: z.boolean().optional(),
  reportIntervalMinutes: interval.optional(),
  sourceName: z.string().optional(),
  formulaEscape: formulaEscape.optional(),
  maxReportBytes: z.number().int().positive().optional(),
});

/**
 * Validates `value` against `schema`, dropping keys whose value is `undefined` first (an explicit
 * `undefined` means "default"). Throws {@link InvalidOptionsError} listing every problem.
 */
export function checkOptions(what: string, schema: z.ZodType, value: unknown): void {
  if (value === undefined) return;
  const defined =
    typeof value === 'object' && value !== null
      ? Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined))
      : value;
  const result = schema.safeParse(defined);
  if (result.success) return;
  // An unknown key is named in the message (zod's own says only "Unrecognized key(s)").
  const problems = configProblemsFrom({
    issues: result.error.issues.map((i) => ({
      path: i.path,
      message: i.code === 'unrecognized_keys' ? `unknown key(s) ${i.keys.join(', ')}` : i.message,
    })),
  });
  throw new InvalidOptionsError(what, problems);
}
