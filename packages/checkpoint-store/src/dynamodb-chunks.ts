import type {
  AttributeValue,
  DeleteRequest,
  DynamoDBClient,
  WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { backoffDelay, type Logger, sleep } from '@connect-wfm/core';
import { chunkSortKey, errorText } from './dynamodb-item.js';

// The chunk items that hold a commit's state (`sk = state#<gen>#<index>`): sizes, concurrency,
// and their removal once a newer generation is referenced or an abandoned one is old enough.

type DynamoDbModule = typeof import('@aws-sdk/client-dynamodb');

/**
 * Bytes of committed state per chunk item: under DynamoDB's 400 KB item limit with room for the
 * key (a pk of up to 2,305 characters) and the other attributes.
 */
export const STATE_CHUNK_BYTES = 350_000;
/** Chunk items written or read at once. */
export const CHUNK_CONCURRENCY = 4;
/** Chunk items of an abandoned commit (a crash between chunks and flip) older than this are removed. */
export const ORPHAN_CHUNK_AGE_MS = 15 * 60_000;

/** Runs `fn` on every index below `count`, at most `limit` at a time. */
export async function forEachLimited(
  count: number,
  limit: number,
  fn: (index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      await fn(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
}

/** What removing chunk items needs from the store. */
export interface DynamoChunkContext {
  readonly client: DynamoDBClient;
  readonly sdk: DynamoDbModule;
  readonly tableName: string;
  /** The scope's partition key value. */
  readonly pk: AttributeValue;
  readonly logger: Logger;
}

/** Removes chunk items; failures are logged, not thrown (the commit itself succeeded). */
export async function deleteChunks(
  ctx: DynamoChunkContext,
  gen: string,
  chunks: number,
): Promise<void> {
  const keys = Array.from({ length: chunks }, (_, i) => chunkSortKey(gen, i));
  await deleteChunkKeys(ctx, keys);
}

async function deleteChunkKeys(
  ctx: DynamoChunkContext,
  sortKeys: readonly string[],
): Promise<void> {
  try {
    for (let i = 0; i < sortKeys.length; i += 25) {
      let requests: WriteRequest[] = sortKeys.slice(i, i + 25).map((sk) => ({
        DeleteRequest: {
          Key: { pk: ctx.pk, sk: { S: sk } },
        } satisfies DeleteRequest,
      }));
      for (let attempt = 0; requests.length > 0; attempt++) {
        if (attempt > 0) await sleep(backoffDelay(attempt, { baseMs: 40, maxMs: 1000 }));
        if (attempt >= 8) throw new Error('unprocessed deletes after 8 attempts');
        const out = await ctx.client.send(
          new ctx.sdk.BatchWriteItemCommand({ RequestItems: { [ctx.tableName]: requests } }),
        );
        requests = out.UnprocessedItems?.[ctx.tableName] ?? [];
      }
    }
  } catch (err) {
    ctx.logger.warn('could not remove old committed-state chunks; they are removed later', {
      tableName: ctx.tableName,
      chunks: sortKeys.length,
      error: errorText(err),
    });
  }
}

/** Removes chunks of generations other than `current` left by commits that never flipped. */
export async function removeOrphanChunks(ctx: DynamoChunkContext, current: string): Promise<void> {
  const stale: string[] = [];
  const cutoff = Date.now() - ORPHAN_CHUNK_AGE_MS;
  try {
    let start: Record<string, AttributeValue> | undefined;
    do {
      const out = await ctx.client.send(
        new ctx.sdk.QueryCommand({
          TableName: ctx.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: {
            ':pk': ctx.pk,
            ':prefix': { S: 'state#' },
          },
          ProjectionExpression: 'sk, #at',
          ExpressionAttributeNames: { '#at': 'at' },
          ...(start === undefined ? {} : { ExclusiveStartKey: start }),
        }),
      );
      for (const item of out.Items ?? []) {
        const sk = item.sk?.S;
        if (sk === undefined || sk.startsWith(`state#${current}#`)) continue;
        if (Number(item.at?.N) < cutoff) stale.push(sk);
      }
      start = out.LastEvaluatedKey;
    } while (start !== undefined);
  } catch (err) {
    ctx.logger.warn('could not look for abandoned committed-state chunks', {
      tableName: ctx.tableName,
      error: errorText(err),
    });
    return;
  }
  if (stale.length > 0) await deleteChunkKeys(ctx, stale);
}
