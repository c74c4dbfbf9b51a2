import type { S3EventNotification } from '@connect-wfm/testkit';

/** A CTR with the fields the CSV uses. */
export function ctr(i: number, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const minute = String(i % 60).padStart(2, '0');
  return {
    AWSAccountId: '111122223333',
    ContactId: `c-${i}`,
    Channel: 'VOICE',
    InitiationMethod: 'INBOUND',
    InitiationTimestamp: `2026-11-24T08:${minute}:00Z`,
    LastUpdateTimestamp: `2026-11-24T09:${minute}:00Z`,
    Agent: {
      ARN: 'arn:aws:connect:eu-west-1:111122223333:instance/i/agent/a-1',
      Username: 'agent.alvarez',
      ConnectedToAgentTimestamp: `2026-11-24T08:${minute}:20Z`,
      AgentInteractionDuration: 120 + i,
      AfterContactWorkDuration: 30,
      CustomerHoldDuration: 0,
    },
    Queue: {
      ARN: 'arn:aws:connect:eu-west-1:111122223333:instance/i/queue/q-support',
      Name: 'Support, "Tier 1"',
      EnqueueTimestamp: `2026-11-24T08:${minute}:05Z`,
      Duration: 15,
    },
    SystemEndpoint: { Address: '+4620000000', Type: 'TELEPHONE_NUMBER' },
    TransferCompletedTimestamp: null,
    TransferredToEndpoint: null,
    Attributes: { note: 'ünïcode }{ inside' },
    ...overrides,
  };
}

/** A Firehose object: records concatenated with no delimiter. */
export function firehoseObject(count: number, start = 0): Buffer {
  let text = '';
  for (let i = start; i < start + count; i++) text += JSON.stringify(ctr(i));
  return Buffer.from(text, 'utf8');
}

/** An S3 event notification body for one created object, key URL-encoded as S3 does. */
export function s3Notification(bucket: string, key: string): string {
  const encoded = encodeURIComponent(key).replace(/%20/g, '+').replace(/%2F/g, '/');
  const event: S3EventNotification = {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: 'us-east-1',
        eventTime: new Date().toISOString(),
        eventName: 'ObjectCreated:Put',
        s3: {
          s3SchemaVersion: '1.0',
          bucket: { name: bucket, arn: `arn:aws:s3:::${bucket}` },
          object: { key: encoded, sequencer: '0' },
        },
      },
    ],
  };
  return JSON.stringify(event);
}

/** An SQS event as the event source mapping delivers it. */
export function sqsEvent(bodies: ReadonlyArray<{ id: string; body: string }>): unknown {
  return {
    Records: bodies.map(({ id, body }) => ({
      messageId: id,
      receiptHandle: `rh-${id}`,
      body,
      attributes: { ApproximateReceiveCount: '1' },
      messageAttributes: {},
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:historical',
      awsRegion: 'us-east-1',
    })),
  };
}

export const AGENT_REPORT =
  'Agent,Interval,Agent idle time,Non-Productive Time,Online time\r\n' +
  'agent.alvarez,2026-11-24T08:00:00Z,00:10:00,300,1800\r\n' +
  'agent.berg,2026-11-24T08:00:00Z,-,0,900\r\n';
