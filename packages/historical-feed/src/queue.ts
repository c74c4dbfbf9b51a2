import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { type Logger, silentLogger } from '@connect-wfm/core';
import type { HistoricalFeed } from './feed.js';
import type { MessageOutcome } from './types.js';

/** The part of a Lambda SQS record the batch handler reads. */
export interface SqsRecordLike {
  readonly messageId: string;
  readonly body: string;
}

/** Options of {@link processSqsBatch}. */
export interface SqsBatchOptions {
  /** Milliseconds left in the invocation (Lambda's `context.getRemainingTimeInMillis`). */
  readonly remainingMs?: (() => number) | undefined;
  /** A record is started only while more than this is left; the rest are failed for retry. @default 10000 */
  readonly reserveMs?: number | undefined;
  /** Called with each message's outcome (metrics). */
  readonly onMessage?: ((outcome: MessageOutcome) => void) | undefined;
  readonly logger?: Logger | undefined;
}

/** The SQS event source mapping's partial batch response. */
export interface SqsBatchResponse {
  batchItemFailures: Array<{ itemIdentifier: string }>;
}

/**
 * Processes a Lambda SQS batch one message at a time and returns the partial batch response:
 * every message not delivered (failed, or not started because the invocation's time ran short)
 * is listed, so only those come back; the others are deleted by Lambda.
 *
 * @example
 * export const handler = (event, context) =>
 *   processSqsBatch(feed, event.Records, { remainingMs: () => context.getRemainingTimeInMillis() });
 */
export async function processSqsBatch(
  feed: Pick<HistoricalFeed, 'processMessage'>,
  records: readonly SqsRecordLike[],
  options: SqsBatchOptions = {},
): Promise<SqsBatchResponse> {
  const logger = options.logger ?? silentLogger;
  const reserve = options.reserveMs ?? 10_000;
  const failures: Array<{ itemIdentifier: string }> = [];
  for (const record of records) {
    if (options.remainingMs !== undefined && options.remainingMs() < reserve) {
      logger.warn('time is short: message left for a later invocation', {
        messageId: record.messageId,
      });
      failures.push({ itemIdentifier: record.messageId });
      continue;
    }
    const outcome = await feed.processMessage(record.body, record.messageId);
    options.onMessage?.(outcome);
    if (!outcome.acknowledge) failures.push({ itemIdentifier: record.messageId });
  }
  return { batchItemFailures: failures };
}

/** Options of {@link drainQueue}. */
export interface DrainOptions {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  /** Milliseconds left in the invocation. */
  readonly remainingMs: () => number;
  /** A message is started only while more than this is left. @default 60000 */
  readonly reserveMs?: number | undefined;
  /** Visibility timeout of received messages, extended while one is in flight. @default 120 */
  readonly visibilityTimeoutSeconds?: number | undefined;
  /** How often an in-flight message's visibility is extended. @default a third of the timeout */
  readonly extendEveryMs?: number | undefined;
  /** Long-poll wait of each receive, seconds (0-20). @default 1 */
  readonly waitTimeSeconds?: number | undefined;
  readonly onMessage?: ((outcome: MessageOutcome) => void) | undefined;
  readonly logger?: Logger | undefined;
}

/** What a drain did. */
export interface DrainResult {
  /** Messages received. */
  received: number;
  /** Messages delivered and deleted. */
  deleted: number;
  /** Messages that failed (left for retry or the DLQ). */
  failed: number;
  /** Messages received but not started (made visible again) because time ran short. */
  released: number;
  /** Why the drain stopped. */
  stoppedBecause: 'empty' | 'time';
}

/**
 * The scheduled drain: receives from the queue until it is empty or the remaining time is short,
 * delivers each message's objects, deletes a message only after delivery, and extends its
 * visibility while it is in flight (a large object can take longer than the visibility timeout).
 * A failed message is left invisible until its timeout ends (no busy loop); messages received but
 * not started are made visible again at once.
 *
 * @example
 * export const drain = (_event, context) =>
 *   drainQueue(feed, { sqs, queueUrl, remainingMs: () => context.getRemainingTimeInMillis() });
 */
export async function drainQueue(
  feed: Pick<HistoricalFeed, 'processMessage'>,
  options: DrainOptions,
): Promise<DrainResult> {
  const { sqs, queueUrl } = options;
  const logger = options.logger ?? silentLogger;
  const reserve = options.reserveMs ?? 60_000;
  const visibility = options.visibilityTimeoutSeconds ?? 120;
  const extendEvery = options.extendEveryMs ?? Math.max(1000, (visibility * 1000) / 3);
  const wait = options.waitTimeSeconds ?? 1;
  const result: DrainResult = {
    received: 0,
    deleted: 0,
    failed: 0,
    released: 0,
    stoppedBecause: 'time',
  };
  const seen = new Set<string>();
  for (let round = 0; round < 100_000; round++) {
    if (options.remainingMs() < reserve + wait * 1000) break;
    const out = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: wait,
        VisibilityTimeout: visibility,
        MessageSystemAttributeNames: ['ApproximateReceiveCount'],
      }),
    );
    const messages = out.Messages ?? [];
    if (messages.length === 0) {
      result.stoppedBecause = 'empty';
      break;
    }
    result.received += messages.length;
    for (let i = 0; i < messages.length; i++) {
      const message = messages[i] as Message;
      const id = message.MessageId ?? '(no id)';
      if (options.remainingMs() < reserve) {
        await release(sqs, queueUrl, messages.slice(i), logger);
        result.released += messages.length - i;
        logger.info('drain out of time: remaining messages released for a later run', {
          released: messages.length - i,
        });
        return result;
      }
      if (seen.has(id)) {
        // Received again in this run (a failed message whose timeout passed): leave it for later.
        continue;
      }
      seen.add(id);
      const outcome = await withVisibility(
        sqs,
        queueUrl,
        message,
        visibility,
        extendEvery,
        logger,
        () => feed.processMessage(message.Body ?? '', id),
      );
      options.onMessage?.(outcome);
      if (outcome.acknowledge) {
        await sqs.send(
          new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }),
        );
        result.deleted++;
      } else {
        result.failed++;
        logger.warn('message left in the queue for retry', {
          messageId: id,
          receiveCount: message.Attributes?.ApproximateReceiveCount,
          retryable: outcome.retryable,
        });
      }
    }
  }
  logger.info('drain finished', { ...result });
  return result;
}

async function withVisibility<T>(
  sqs: SQSClient,
  queueUrl: string,
  message: Message,
  visibility: number,
  extendEvery: number,
  logger: Logger,
  work: () => Promise<T>,
): Promise<T> {
  let extending: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    extending = sqs
      .send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: queueUrl,
          ReceiptHandle: message.ReceiptHandle,
          VisibilityTimeout: visibility,
        }),
      )
      .then(
        () =>
          logger.debug('visibility extended', {
            messageId: message.MessageId,
            seconds: visibility,
          }),
        (err: unknown) =>
          logger.warn('extending the visibility failed', {
            messageId: message.MessageId,
            error: (err as Error)?.name,
          }),
      );
  }, extendEvery);
  try {
    return await work();
  } finally {
    clearInterval(timer);
    await extending;
  }
}

async function release(
  sqs: SQSClient,
  queueUrl: string,
  messages: readonly Message[],
  logger: Logger,
): Promise<void> {
  for (const m of messages) {
    try {
      await sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: queueUrl,
          ReceiptHandle: m.ReceiptHandle,
          VisibilityTimeout: 0,
        }),
      );
    } catch (err) {
      logger.warn('releasing a message failed; it returns when its visibility timeout ends', {
        messageId: m.MessageId,
        error: (err as Error)?.name,
      });
    }
  }
}
