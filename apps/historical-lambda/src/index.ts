/**
 * The historical feed as an AWS Lambda (Node.js 22): two entry points in one module.
 * - `handler`: SQS event source mapping with ReportBatchItemFailures.
 * - `drain`: EventBridge schedule (every 30 minutes); drains the queue until it is empty or time
 *   is short.
 * Configuration is read and validated at cold start (a bad one fails the init with every
 * problem listed); the SFTP secret is fetched once per container. See ../README.md.
 */
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import {
  type DrainResult,
  drainQueue,
  HistoricalFeed,
  processSqsBatch,
  type SqsBatchResponse,
} from '@connect-wfm/historical-feed';
import { SftpUploader } from '@connect-wfm/sftp-uploader';
import { ConfigError, type LambdaConfig, loadConfig } from './config.js';
import { createObservability } from './observability.js';
import { sftpCredentials } from './secrets.js';

/** The part of the Lambda context the handlers use. */
export interface LambdaContext {
  readonly awsRequestId: string;
  readonly functionName?: string;
  getRemainingTimeInMillis(): number;
}

/** An SQS event as the event source mapping delivers it. */
export interface SqsEvent {
  readonly Records: ReadonlyArray<{ readonly messageId: string; readonly body: string }>;
}

function coldStart(): LambdaConfig {
  try {
    return loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      // One JSON line the operator finds in CloudWatch, then the init fails with the same text.
      process.stderr.write(
        `${JSON.stringify({ level: 'ERROR', message: err.message, problems: err.problems })}\n`,
      );
    }
    throw err;
  }
}

const config = coldStart();
const obs = createObservability({
  serviceName: config.POWERTOOLS_SERVICE_NAME,
  namespace: config.POWERTOOLS_METRICS_NAMESPACE,
  logLevel: config.LOG_LEVEL,
});
const s3 = new S3Client({ forcePathStyle: config.S3_FORCE_PATH_STYLE });
const kms = new KMSClient({});
const sqs = new SQSClient({});

async function newFeed(): Promise<{ feed: HistoricalFeed; uploader: SftpUploader }> {
  const credentials = await sftpCredentials(config);
  const uploader = new SftpUploader({
    host: config.SFTP_HOST,
    port: config.SFTP_PORT,
    username: config.SFTP_USERNAME,
    hostKeySha256: config.SFTP_HOST_KEY,
    remoteDir: config.SFTP_REMOTE_DIR,
    connectTimeoutMs: config.SFTP_CONNECT_TIMEOUT_MS,
    retry: { maxAttempts: config.SFTP_MAX_ATTEMPTS },
    logger: obs.logger,
    ...credentials,
  });
  const feed = new HistoricalFeed({
    s3,
    kms,
    uploader,
    ctrPrefix: config.CTR_PREFIX,
    reportPrefix: config.REPORT_PREFIX,
    quarantinePrefix: config.QUARANTINE_PREFIX,
    sniffContent: config.SNIFF_CONTENT,
    reportMode: config.REPORT_MODE,
    statsOutputs: config.STATS_OUTPUTS,
    statsIntervalMinutes: config.STATS_INTERVAL_MINUTES,
    deliveredTag: config.DELIVERED_TAG,
    kmsKeyId: config.KMS_KEY_ID,
    readAheadBytes: config.READ_AHEAD_BYTES,
    logger: obs.logger,
  });
  return { feed, uploader };
}

async function invoke<T>(
  context: LambdaContext,
  trigger: string,
  work: (feed: HistoricalFeed) => Promise<T>,
): Promise<T> {
  obs.powertools.appendKeys({ requestId: context.awsRequestId, trigger });
  const { feed, uploader } = await newFeed();
  try {
    return await work(feed);
  } finally {
    // One SSH connection per invocation: a frozen container's connection is not reused.
    await uploader.close().catch(() => {});
    obs.metrics.publishStoredMetrics();
  }
}

/**
 * SQS event source mapping entry point: returns the partial batch response (messages not
 * delivered are listed and come back; the others are deleted by Lambda).
 *
 * @example
 * // template: Handler: index.handler, FunctionResponseTypes: [ReportBatchItemFailures]
 */
export async function handler(event: SqsEvent, context: LambdaContext): Promise<SqsBatchResponse> {
  return invoke(context, 'sqs', (feed) =>
    processSqsBatch(feed, event.Records, {
      remainingMs: () => context.getRemainingTimeInMillis(),
      reserveMs: config.BATCH_RESERVE_MS,
      onMessage: (o) => obs.record(o),
      logger: obs.logger,
    }),
  );
}

/**
 * Scheduled entry point: drains QUEUE_URL until it is empty or the remaining time is short.
 *
 * @example
 * // template: Handler: index.drain, EventBridge schedule rate(30 minutes)
 */
export async function drain(_event: unknown, context: LambdaContext): Promise<DrainResult> {
  const queueUrl = config.QUEUE_URL;
  if (queueUrl === undefined) {
    throw new ConfigError([{ path: 'QUEUE_URL', message: 'is required by the scheduled drain' }]);
  }
  return invoke(context, 'drain', (feed) =>
    drainQueue(feed, {
      sqs,
      queueUrl,
      remainingMs: () => context.getRemainingTimeInMillis(),
      reserveMs: config.DRAIN_RESERVE_MS,
      visibilityTimeoutSeconds: config.DRAIN_VISIBILITY_TIMEOUT_SECONDS,
      onMessage: (o) => obs.record(o),
      logger: obs.logger,
    }),
  );
}
