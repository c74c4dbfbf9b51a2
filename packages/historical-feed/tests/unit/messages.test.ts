import { decodeS3Key, HistoricalFeedError, parseQueueMessage } from '../../src/index.js';

const s3Event = (key: string, eventName = 'ObjectCreated:Put') =>
  JSON.stringify({
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        eventName,
        s3: { bucket: { name: 'bkt' }, object: { key, size: 10 } },
      },
    ],
  });

describe('parseQueueMessage', () => {
  it('decodes URL-encoded S3 keys, + being a space', () => {
    const parsed = parseQueueMessage(s3Event('Reports/Agent+Perf%3A2026-11-24T08%3A00.csv'), 'm1');
    expect(parsed).toEqual({
      kind: 'objects',
      objects: [
        {
          bucket: 'bkt',
          key: 'Reports/Agent Perf:2026-11-24T08:00.csv',
          eventName: 'ObjectCreated:Put',
          size: 10,
        },
      ],
      ignored: [],
    });
    expect(decodeS3Key('a%2Bb+c')).toBe('a+b c');
  });

  it('recognises s3:TestEvent', () => {
    const body = JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent', Bucket: 'bkt' });
    expect(parseQueueMessage(body, 'm2')).toEqual({ kind: 'test' });
  });

  it('unwraps an SNS notification holding an S3 notification', () => {
    const body = JSON.stringify({
      Type: 'Notification',
      TopicArn: 'arn:aws:sns:x',
      Message: s3Event('ctr/a+b'),
    });
    const parsed = parseQueueMessage(body, 'm3');
    expect(parsed.kind === 'objects' && parsed.objects[0]?.key).toBe('ctr/a b');
  });

  it('reads an EventBridge Object Created event without decoding its key', () => {
    const body = JSON.stringify({
      source: 'aws.s3',
      'detail-type': 'Object Created',
      detail: { bucket: { name: 'bkt' }, object: { key: 'ctr/a+b', size: 3, etag: 'e' } },
    });
    const parsed = parseQueueMessage(body, 'm4');
    expect(parsed).toEqual({
      kind: 'objects',
      objects: [{ bucket: 'bkt', key: 'ctr/a+b', eventName: 'Object Created', size: 3, eTag: 'e' }],
      ignored: [],
    });
  });

  it('acknowledges deletions without objects to deliver', () => {
    const parsed = parseQueueMessage(s3Event('ctr/x', 'ObjectRemoved:Delete'), 'm5');
    expect(parsed).toEqual({
      kind: 'objects',
      objects: [],
      ignored: ['ObjectRemoved:Delete s3://bkt/ctr/x'],
    });
  });

  it.each([
    ['not json', 'the body is not JSON'],
    ['{"hello":1}', 'unknown JSON shape'],
    ['{"Records":[{"eventSource":"aws:sqs"}]}', 'Records[0]'],
    ['{"Type":"Notification","Message":"nope"}', 'SNS Message is not JSON'],
  ])('refuses %s with a message naming the message id', (body, why) => {
    let error: unknown;
    try {
      parseQueueMessage(body, 'msg-9');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(HistoricalFeedError);
    expect((error as HistoricalFeedError).code).toBe('UNRECOGNIZED_MESSAGE');
    expect((error as Error).message).toContain('msg-9');
    expect((error as Error).message).toContain(why);
  });
});
