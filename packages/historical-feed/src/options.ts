import { z } from 'zod';

const prefix = z.string().max(1024);

/** Options of the feed other than the clients (validated; every problem reported at once). */
export const feedOptionsSchema = z
  .strictObject({
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
  })
  .superRefine((v, ctx) => {
    for (const [name, other] of [
      ['ctrPrefix', v.ctrPrefix],
      ['reportPrefix', v.reportPrefix],
    ] as const) {
      if (other !== '' && v.quarantinePrefix.startsWith(other)) {
        ctx.addIssue({
          code: 'custom',
          path: ['quarantinePrefix'],
          message: `must not lie under ${name} "${other}" (quarantined bytes would be delivered)`,
        });
      }
    }
  });
