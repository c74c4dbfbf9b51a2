/**
 * Validation of {@link KinesisShardReaderOptions} with zod: unknown keys are rejected and every
 * problem is reported at once.
 */
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { CheckpointStore } from '@connect-wfm/checkpoint-store';
import { configProblemsFrom, type Logger } from '@connect-wfm/core';
import { z } from 'zod';
import { InvalidOptionsError } from './errors.js';
import { parseStreamRef, type StreamRef } from './stream-ref.js';
import type {
  InitialPosition,
  KinesisShardReaderOptions,
  ThrottleBackoffOptions,
} from './types.js';

/** Options with every default applied. */
export interface ResolvedOptions {
  readonly client: KinesisClient;
  readonly stream: StreamRef;
  readonly streamLabel: string;
  readonly checkpointStore: CheckpointStore;
  readonly initialPosition: InitialPosition;
  readonly childShardStart: 'parent-checkpointed' | 'parent-delivered';
  readonly maxRecords: number;
  readonly maxRecordsInFlight: number | undefined;
  readonly idleIntervalMs: number;
  readonly minBackToBackMs: number;
  readonly shardDiscoveryIntervalMs: number;
  readonly throttleBackoff: Required<ThrottleBackoffOptions>;
  readonly getRecordsMaxAttempts: number;
  readonly requestTimeoutMs: number;
  readonly warnAfterThrottles: number;
  readonly logger: Logger | undefined;
  readonly signal: AbortSignal | undefined;
}

function hasMethods(value: unknown, methods: readonly string[]): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return methods.every((m) => typeof record[m] === 'function');
}

const ms = (min: number) => z.number().int().min(min).max(86_400_000);

const schema = z.strictObject({
  client: z.custom<KinesisClient>((v) => hasMethods(v, ['send']), {
    message: 'must be a KinesisClient from @aws-sdk/client-kinesis',
  }),
  stream: z.string().refine((s) => parseStreamRef(s) !== undefined, {
    message:
      'must be a stream name (1-128 of a-z A-Z 0-9 _ . -) or an ARN arn:aws:kinesis:<region>:<account>:stream/<name>',
  }),
  checkpointStore: z.custom<CheckpointStore>((v) => hasMethods(v, ['get', 'getAll', 'put']), {
    message: 'must be a CheckpointStore from @connect-wfm/checkpoint-store',
  }),
  initialPosition: z.discriminatedUnion('type', [
    z.strictObject({ type: z.literal('TRIM_HORIZON') }),
    z.strictObject({ type: z.literal('LATEST') }),
    z.strictObject({
      type: z.literal('AT_TIMESTAMP'),
      timestamp: z.date().refine((d) => !Number.isNaN(d.getTime()), { message: 'invalid date' }),
    }),
  ]),
  childShardStart: z.enum(['parent-checkpointed', 'parent-delivered']).optional(),
  maxRecords: z.number().int().min(1).max(10_000).optional(),
  maxRecordsInFlight: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional(),
  idleIntervalMs: ms(0).optional(),
  minBackToBackMs: ms(200).optional(),
  shardDiscoveryIntervalMs: ms(10).optional(),
  throttleBackoff: z
    .strictObject({ baseMs: ms(1).optional(), maxMs: ms(1).optional() })
    .refine((b) => (b.baseMs ?? 200) <= (b.maxMs ?? 5000), {
      message: 'baseMs must not exceed maxMs',
    })
    .optional(),
  getRecordsMaxAttempts: z.number().int().min(1).max(10).optional(),
  requestTimeoutMs: ms(100).optional(),
  warnAfterThrottles: z.number().int().min(1).optional(),
  logger: z
    .custom<Logger>((v) => hasMethods(v, ['debug', 'info', 'warn', 'error']), {
      message: 'must have debug, info, warn and error methods',
    })
    .optional(),
  signal: z
    .custom<AbortSignal>((v) => v instanceof AbortSignal, { message: 'must be an AbortSignal' })
    .optional(),
});

/**
 * Validates options and applies defaults; throws {@link InvalidOptionsError} listing every problem.
 *
 * @example
 * const resolved = resolveOptions({ client, stream: 'agent-events', checkpointStore, initialPosition: { type: 'TRIM_HORIZON' } });
 */
export function resolveOptions(options: KinesisShardReaderOptions): ResolvedOptions {
  const parsed = schema.safeParse(options);
  if (!parsed.success) {
    throw new InvalidOptionsError(configProblemsFrom(parsed.error));
  }
  const o = parsed.data;
  const stream = parseStreamRef(o.stream) as StreamRef;
  return {
    client: o.client,
    stream,
    streamLabel: o.stream,
    checkpointStore: o.checkpointStore,
    initialPosition: o.initialPosition,
    childShardStart: o.childShardStart ?? 'parent-checkpointed',
    maxRecords: o.maxRecords ?? 10_000,
    maxRecordsInFlight: o.maxRecordsInFlight,
    idleIntervalMs: o.idleIntervalMs ?? 5_000,
    minBackToBackMs: o.minBackToBackMs ?? 200,
    shardDiscoveryIntervalMs: o.shardDiscoveryIntervalMs ?? 60_000,
    throttleBackoff: {
      baseMs: o.throttleBackoff?.baseMs ?? 200,
      maxMs: o.throttleBackoff?.maxMs ?? 5_000,
    },
    getRecordsMaxAttempts: o.getRecordsMaxAttempts ?? 2,
    requestTimeoutMs: o.requestTimeoutMs ?? 30_000,
    warnAfterThrottles: o.warnAfterThrottles ?? 5,
    logger: o.logger,
    signal: o.signal,
  };
}
