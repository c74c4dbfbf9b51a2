import { z } from 'zod';
import { HistoricalFeedError } from './errors.js';
import type { ObjectRef, ParsedMessage } from './types.js';

/**
 * The SQS message shapes the feed accepts (docs/operations/historical-feed.md#messages): S3 event
 * notifications (keys URL-encoded, `+` is a space), `s3:TestEvent`, the same wrapped in an SNS
 * notification, and EventBridge "Object Created" events (keys not encoded).
 */

const s3Record = z.object({
  eventSource: z.literal('aws:s3'),
  eventName: z.string(),
  s3: z.object({
    bucket: z.object({ name: z.string().min(1) }),
    object: z.object({
      key: z.string().min(1),
      size: z.number().optional(),
      eTag: z.string().optional(),
      sequencer: z.string().optional(),
    }),
  }),
});
const s3Notification = z.object({ Records: z.array(z.unknown()).min(1) });
const testEvent = z.object({ Event: z.literal('s3:TestEvent') });
const snsEnvelope = z.object({ Type: z.literal('Notification'), Message: z.string() });
const eventBridge = z.object({
  source: z.literal('aws.s3'),
  'detail-type': z.string(),
  detail: z.object({
    bucket: z.object({ name: z.string().min(1) }),
    object: z.object({
      key: z.string().min(1),
      size: z.number().optional(),
      etag: z.string().optional(),
      sequencer: z.string().optional(),
    }),
  }),
});

/**
 * Decodes an S3 event notification key: URL-encoded, with `+` for a space.
 *
 * @example
 * decodeS3Key('Reports/Agent+Performance%3A2026.csv'); // 'Reports/Agent Performance:2026.csv'
 */
export function decodeS3Key(key: string): string {
  const spaced = key.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(spaced);
  } catch {
    // A lone '%' that is not an escape: S3 would have encoded it, so keep the text as given.
    return spaced;
  }
}

function unrecognized(messageId: string, why: string): HistoricalFeedError {
  return new HistoricalFeedError(
    'UNRECOGNIZED_MESSAGE',
    `SQS message ${messageId} is not an S3 notification, an SNS-wrapped S3 notification, an EventBridge "Object Created" event or an s3:TestEvent (${why}); it is left for the dead-letter queue`,
  );
}

function fromValue(value: unknown, messageId: string, depth: number): ParsedMessage {
  if (testEvent.safeParse(value).success) return { kind: 'test' };
  const sns = snsEnvelope.safeParse(value);
  if (sns.success && depth === 0) {
    let inner: unknown;
    try {
      inner = JSON.parse(sns.data.Message);
    } catch {
      throw unrecognized(messageId, 'the SNS Message is not JSON');
    }
    return fromValue(inner, messageId, depth + 1);
  }
  const notification = s3Notification.safeParse(value);
  if (notification.success) {
    const objects: ObjectRef[] = [];
    const ignored: string[] = [];
    notification.data.Records.forEach((raw, i) => {
      const record = s3Record.safeParse(raw);
      if (!record.success) {
        throw unrecognized(messageId, `Records[${i}] is not an aws:s3 event record`);
      }
      const { eventName, s3 } = record.data;
      const key = decodeS3Key(s3.object.key);
      if (!eventName.startsWith('ObjectCreated:')) {
        ignored.push(`${eventName} s3://${s3.bucket.name}/${key}`);
        return;
      }
      objects.push({
        bucket: s3.bucket.name,
        key,
        eventName,
        ...(s3.object.size !== undefined ? { size: s3.object.size } : {}),
        ...(s3.object.eTag !== undefined ? { eTag: s3.object.eTag } : {}),
      });
    });
    return { kind: 'objects', objects, ignored };
  }
  const eb = eventBridge.safeParse(value);
  if (eb.success) {
    const { detail } = eb.data;
    if (eb.data['detail-type'] !== 'Object Created') {
      return {
        kind: 'objects',
        objects: [],
        ignored: [`${eb.data['detail-type']} s3://${detail.bucket.name}/${detail.object.key}`],
      };
    }
    return {
      kind: 'objects',
      objects: [
        {
          bucket: detail.bucket.name,
          key: detail.object.key,
          eventName: 'Object Created',
          ...(detail.object.size !== undefined ? { size: detail.object.size } : {}),
          ...(detail.object.etag !== undefined ? { eTag: detail.object.etag } : {}),
        },
      ],
      ignored: [],
    };
  }
  throw unrecognized(messageId, 'unknown JSON shape');
}

/**
 * Parses an SQS message body into the S3 objects it announces.
 *
 * @throws {@link HistoricalFeedError} `UNRECOGNIZED_MESSAGE` for any other body.
 * @example
 * const parsed = parseQueueMessage(record.body, record.messageId);
 * if (parsed.kind === 'objects') for (const o of parsed.objects) console.log(o.bucket, o.key);
 */
export function parseQueueMessage(body: string, messageId: string): ParsedMessage {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw unrecognized(messageId, 'the body is not JSON');
  }
  return fromValue(value, messageId, 0);
}
