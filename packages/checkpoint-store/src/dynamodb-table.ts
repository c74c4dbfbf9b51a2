import type { DynamoDBClient, TableDescription } from '@aws-sdk/client-dynamodb';
import { backoffDelay, type Logger, sleep } from '@connect-wfm/core';
import { errorName } from './dynamodb-item.js';
import { BackendError, type CheckpointStoreError, InvalidArgumentError } from './errors.js';

type DynamoDbModule = typeof import('@aws-sdk/client-dynamodb');

/** What preparing the checkpoint table needs from the store. */
export interface DynamoTableContext {
  readonly client: DynamoDBClient;
  readonly sdk: DynamoDbModule;
  readonly tableName: string;
  /** Create the table when it is missing (else fail). */
  readonly createTable: boolean;
  /** How long to wait for the table to become ACTIVE. */
  readonly activeTimeoutMs: number;
  readonly logger: Logger;
  /** Turns an SDK failure into the store's error for "could not <what> the checkpoints of". */
  readonly wrap: (what: string, err: unknown) => CheckpointStoreError;
}

async function describe(ctx: DynamoTableContext): Promise<TableDescription | undefined> {
  try {
    const out = await ctx.client.send(
      new ctx.sdk.DescribeTableCommand({ TableName: ctx.tableName }),
    );
    return out.Table;
  } catch (err) {
    if (errorName(err) === 'ResourceNotFoundException') return undefined;
    throw ctx.wrap('describe the table for', err);
  }
}

/**
 * Makes sure the checkpoint table exists (creating it when allowed), waits until it is ACTIVE,
 * and checks its key schema is `pk` (HASH) + `sk` (RANGE).
 */
export async function prepareDynamoTable(ctx: DynamoTableContext): Promise<void> {
  let table = await describe(ctx);
  if (table === undefined) {
    if (!ctx.createTable) {
      throw new BackendError(
        `DynamoDB table ${ctx.tableName} does not exist and createTable is false: create it (pk S hash key, sk S range key) or allow the store to create it.`,
        { retryable: false },
      );
    }
    try {
      await ctx.client.send(
        new ctx.sdk.CreateTableCommand({
          TableName: ctx.tableName,
          AttributeDefinitions: [
            { AttributeName: 'pk', AttributeType: 'S' },
            { AttributeName: 'sk', AttributeType: 'S' },
          ],
          KeySchema: [
            { AttributeName: 'pk', KeyType: 'HASH' },
            { AttributeName: 'sk', KeyType: 'RANGE' },
          ],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
      ctx.logger.info('created DynamoDB checkpoint table', { tableName: ctx.tableName });
    } catch (err) {
      // another process created it at the same time: fine
      if (errorName(err) !== 'ResourceInUseException') throw ctx.wrap('create the table for', err);
    }
    table = await describe(ctx);
  }
  const deadline = Date.now() + ctx.activeTimeoutMs;
  let waits = 0;
  while (table?.TableStatus !== 'ACTIVE') {
    if (Date.now() > deadline) {
      throw new BackendError(
        `DynamoDB table ${ctx.tableName} is ${table?.TableStatus ?? 'missing'}, not ACTIVE, after ${ctx.activeTimeoutMs} ms; check it in the AWS console.`,
      );
    }
    waits += 1;
    await sleep(backoffDelay(waits, { baseMs: 50, maxMs: 1000, jitter: 'none' }));
    table = await describe(ctx);
  }
  const keys = (table.KeySchema ?? []).map((k) => `${k.AttributeName}:${k.KeyType}`).sort();
  if (keys.join(',') !== 'pk:HASH,sk:RANGE') {
    throw new InvalidArgumentError(
      `DynamoDB table ${ctx.tableName} has the key schema ${keys.join(',') || '(none)'}, but the checkpoint store needs pk (S, HASH) and sk (S, RANGE); use another table name.`,
    );
  }
}
