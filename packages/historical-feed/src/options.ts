import { z } from 'zod';

const prefix = z.string().max(1024);

/** Options of the feed other than the clients (validated; every problem reported at once). */
export const feedOptionsSchema = z.strictObject({
  ctrPrefix: prefix.default('ctr/'),
  reportPrefix: prefix.default('reports/'),
  quarantinePrefix: prefix.min(1).default('quarantine/'),
  sniffContent: z.boolean().default(true),
  reportMode: z.enum(['passthrough', 'mapped']).default('passthrough'),
  statsOutputs: z.enum(['none', 'queue', 'agent-queue', 'both']).default('none'),
  statsIntervalMinutes: z.union([z.literal(15), z.literal(30), z.literal(60)]).default(15),
  deliveredTag: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[\p{L}\p{Z}\p{N}_.:/=+\-@]+$/u, 'not a valid S3 tag key')
    .default('connect-wfm-delivered'),
  kmsKeyId: z.string().min(1).optional(),
  maxQuarantineBytes: z
    .number()
    .int()
    .min(0)
    .default(8 * 1024 * 1024),
  readAheadBytes: z
    .number()
    .int()
    .min(0)
    .max(256 * 1024 * 1024)
    .default(8 * 1024 * 1024),
});

/** Cross-option checks, run even when single options are invalid (every problem at once). */
export function crossOptionProblems(raw: {
  readonly ctrPrefix?: unknown;
  readonly reportPrefix?: unknown;
  readonly quarantinePrefix?: unknown;
}): Array<{ path: string; message: string }> {
  const text = (v: unknown, d: string) => (typeof v === 'string' ? v : d);
  const quarantine = text(raw.quarantinePrefix, 'quarantine/');
  const problems: Array<{ path: string; message: string }> = [];
  for (const [name, prefix] of [
    ['ctrPrefix', text(raw.ctrPrefix, 'ctr/')],
    ['reportPrefix', text(raw.reportPrefix, 'reports/')],
  ] as const) {
    if (prefix !== '' && quarantine.startsWith(prefix)) {
      problems.push({
        path: 'quarantinePrefix',
        message: `must not lie under ${name} "${prefix}" (quarantined bytes would be delivered)`,
      });
    }
  }
  return problems;
}
