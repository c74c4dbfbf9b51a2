import { type ConfigProblem, configProblemsFrom } from '@connect-wfm/core';
import { z } from 'zod';
import { DynamoDbCheckpointStore } from './dynamodb-store.js';
import type { DynamoDbCheckpointStoreOptions } from './dynamodb-types.js';
import { InvalidConfigError } from './errors.js';
import { FileCheckpointStore } from './file-store.js';
import { MemoryCheckpointStore } from './memory-store.js';
import { PostgresCheckpointStore } from './postgres-store.js';
import type { PostgresCheckpointStoreOptions } from './postgres-types.js';
import type { CheckpointStore, Logger } from './types.js';

const logger = z.custom<Logger>(
  (v) =>
    typeof v === 'object' &&
    v !== null &&
    ['debug', 'info', 'warn', 'error'].every(
      (m) => typeof (v as Record<string, unknown>)[m] === 'function',
    ),
  { message: 'logger must have debug, info, warn and error functions' },
);

/**
 * What the factory needs of a DynamoDB client (an `@aws-sdk/client-dynamodb` `DynamoDBClient`).
 * Structural, so that the root entry's declarations do not mention the SDK; for the typed options
 * import `DynamoDbCheckpointStore` from `@connect-wfm/checkpoint-store/dynamodb`.
 */
export interface DynamoDbClientLike {
  send(...args: never[]): unknown;
}

/** What the factory needs of a `pg` `Pool` (structural, as {@link DynamoDbClientLike}). */
export interface PgPoolLike {
  query(...args: never[]): unknown;
  connect(...args: never[]): unknown;
}

const common = {
  application: z
    .string()
    .min(1)
    .max(256)
    .refine((s) => !s.includes('#'), { message: 'must not contain "#"' }),
  stream: z.string().min(1).max(2048),
  logger: logger.optional(),
};

const commonSchema = z.object(common);

const positiveInt = z.number().int().min(0);

const memorySchema = z.strictObject({ backend: z.literal('memory'), ...common });

const fileSchema = z.strictObject({
  backend: z.literal('file'),
  ...common,
  path: z.string().min(1),
  lockTimeoutMs: positiveInt.optional(),
  lockHungMs: positiveInt.optional(),
  fsync: z.boolean().optional(),
});

const dynamoSchema = z
  .strictObject({
    backend: z.literal('dynamodb'),
    ...common,
    tableName: z.string().regex(/^[a-zA-Z0-9_.-]{3,255}$/, {
      message: 'must be 3–255 characters of [a-zA-Z0-9_.-]',
    }),
    client: z
      .custom<DynamoDbClientLike>(
        (v) =>
          typeof v === 'object' &&
          v !== null &&
          typeof (v as { send?: unknown }).send === 'function',
        { message: 'client must be a DynamoDBClient' },
      )
      .optional(),
    region: z.string().min(1).optional(),
    endpoint: z.url().optional(),
    createTable: z.boolean().optional(),
    tableActiveTimeoutMs: positiveInt.optional(),
  })
  .superRefine((v, ctx) => {
    if (v.client !== undefined && (v.region !== undefined || v.endpoint !== undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['client'],
        message:
          'give either client or region/endpoint (they configure the client the store creates)',
      });
    }
  });

const postgresSchema = z
  .strictObject({
    backend: z.literal('postgres'),
    ...common,
    connectionString: z.string().min(1).optional(),
    pool: z
      .custom<PgPoolLike>(
        (v) =>
          typeof v === 'object' &&
          v !== null &&
          typeof (v as { query?: unknown }).query === 'function' &&
          typeof (v as { connect?: unknown }).connect === 'function',
        { message: 'pool must be a pg Pool' },
      )
      .optional(),
    schema: z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/, {
        message: 'must match [a-z_][a-z0-9_]*, at most 63 characters',
      })
      .optional(),
    maxConnections: z.number().int().min(1).max(1000).optional(),
  })
  .superRefine((v, ctx) => {
    if ((v.connectionString === undefined) === (v.pool === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['connectionString'],
        message: 'give exactly one of connectionString or pool',
      });
    }
  });

const configSchema = z.discriminatedUnion('backend', [
  memorySchema,
  fileSchema,
  dynamoSchema,
  postgresSchema,
]);

/**
 * Configuration of {@link createCheckpointStore}, a union on `backend`. Every variant takes
 * `application`, `stream` and an optional `logger`.
 *
 * - `{ backend: 'file', path, lockTimeoutMs?, lockHungMs?, fsync? }`: the embedded default.
 * - `{ backend: 'dynamodb', tableName, client? | region?/endpoint?, createTable?, tableActiveTimeoutMs? }`
 * - `{ backend: 'postgres', connectionString | pool, schema?, maxConnections? }`
 * - `{ backend: 'memory' }`: tests only.
 */
export type CheckpointStoreConfig = z.input<typeof configSchema>;

function toIssues(error: z.ZodError): ConfigProblem[] {
  return configProblemsFrom({
    issues: error.issues.map((i) => ({
      path: i.path,
      message:
        i.code === 'unrecognized_keys'
          ? `unknown key${i.keys.length === 1 ? '' : 's'} ${i.keys.map((k) => `"${k}"`).join(', ')}`
          : i.message,
    })),
  });
}

/**
 * Validates `config` (unknown keys rejected, every problem reported at once in one
 * `InvalidConfigError`) and creates the store it describes. The DynamoDB and PostgreSQL
 * drivers are optional peer dependencies loaded on first use: a missing one fails that first
 * call with `DriverMissingError` (call `getAll()` at start to find out at once).
 *
 * @example
 * import { createCheckpointStore } from '@connect-wfm/checkpoint-store';
 *
 * const store = createCheckpointStore({
 *   backend: 'file',
 *   application: 'rta',
 *   stream: 'agent-events',
 *   path: './checkpoints.json',
 * });
 */
export function createCheckpointStore(config: CheckpointStoreConfig): CheckpointStore {
  const parsed = configSchema.safeParse(config);
  if (!parsed.success) {
    const issues = toIssues(parsed.error);
    // an unknown backend stops the union early: still report the common keys' problems
    if (issues.some((i) => i.path === 'backend') && typeof config === 'object' && config !== null) {
      const base = commonSchema.safeParse(config);
      if (!base.success) issues.push(...toIssues(base.error));
    }
    throw new InvalidConfigError(issues);
  }
  const c = parsed.data;
  const base = {
    application: c.application,
    stream: c.stream,
    ...(c.logger === undefined ? {} : { logger: c.logger }),
  };
  switch (c.backend) {
    case 'memory':
      return new MemoryCheckpointStore(base);
    case 'file':
      return new FileCheckpointStore({
        ...base,
        path: c.path,
        lockTimeoutMs: c.lockTimeoutMs,
        lockHungMs: c.lockHungMs,
        fsync: c.fsync,
      });
    case 'dynamodb': {
      // without a client, the store creates one (and loads the SDK) on first use
      return new DynamoDbCheckpointStore({
        ...base,
        ...(c.client === undefined
          ? { region: c.region, endpoint: c.endpoint }
          : { client: c.client as unknown as DynamoDbCheckpointStoreOptions['client'] }),
        tableName: c.tableName,
        createTable: c.createTable,
        tableActiveTimeoutMs: c.tableActiveTimeoutMs,
      });
    }
    case 'postgres':
      return new PostgresCheckpointStore({
        ...base,
        pool: c.pool as unknown as PostgresCheckpointStoreOptions['pool'],
        connectionString: c.connectionString,
        schema: c.schema,
        maxConnections: c.maxConnections,
      });
  }
}
