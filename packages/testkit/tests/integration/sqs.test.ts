import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  QueueDoesNotExist,
  ReceiptHandleIsInvalid,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { type SqsPeer, sqsAttributesMd5, startSqs } from '@connect-wfm/testkit';

describe('sqsAttributesMd5', () => {
  it('matches digests SQS returned for published examples', () => {
    expect(
      sqsAttributesMd5({ timestamp: { DataType: 'Number', StringValue: '1493147359900' } }),
    ).toBe('235c5c510d26fb653d073faed50ae77c');
    expect(
      sqsAttributesMd5({
        ordinal: { DataType: 'Number', StringValue: '1' },
        category: { DataType: 'String', StringValue: 'test' },
      }),
    ).toBe('d21ae90c49061e927f57df5f5d72be1f');
    expect(sqsAttributesMd5({})).toBeUndefined();
  });
});

describe('startSqs', () => {
  let sqs: SqsPeer;
  let client: SQSClient;
  let queue = 0;

  /** A fresh queue per test, so tests do not see each other's messages. */
  async function newQueue(attributes?: Record<string, string>): Promise<string> {
    queue += 1;
    const out = await client.send(
      new CreateQueueCommand({
        QueueName: `q${queue}`,
        ...(attributes ? { Attributes: attributes } : {}),
      }),
    );
    return out.QueueUrl ?? '';
  }

  beforeAll(async () => {
    sqs = await startSqs({ queues: ['ctr-events'] });
    client = sqs.client();
  });

  afterAll(async () => {
    client.destroy();
    await sqs.stop();
  });

  it('sends, receives and deletes a message; a second receive sees nothing', async () => {
    const QueueUrl = sqs.queueUrl('ctr-events');
    const sent = await client.send(
      new SendMessageCommand({
        QueueUrl,
        MessageBody: '{"Records":[]} ✓',
        MessageAttributes: {
          source: { DataType: 'String', StringValue: 's3' },
          raw: { DataType: 'Binary', BinaryValue: Buffer.from([0, 255]) },
        },
      }),
    );

    const got = await client.send(
      new ReceiveMessageCommand({
        QueueUrl,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['All'],
      }),
    );
    const msg = got.Messages?.[0];
    await client.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: msg?.ReceiptHandle }));
    const again = await client.send(new ReceiveMessageCommand({ QueueUrl }));

    expect(msg?.MessageId).toBe(sent.MessageId);
    expect(msg?.Body).toBe('{"Records":[]} ✓');
    expect(msg?.Attributes?.ApproximateReceiveCount).toBe('1');
    expect(msg?.MessageAttributes?.source?.StringValue).toBe('s3');
    expect(
      Buffer.from(msg?.MessageAttributes?.raw?.BinaryValue ?? []).equals(Buffer.from([0, 255])),
    ).toBe(true);
    expect(msg?.MD5OfMessageAttributes).toBe(sent.MD5OfMessageAttributes);
    expect(again.Messages ?? []).toHaveLength(0);
    expect(sqs.messages('ctr-events')).toHaveLength(0);
  });

  it('redelivers after the visibility timeout with ApproximateReceiveCount 2', async () => {
    const QueueUrl = await newQueue({ VisibilityTimeout: '1' });
    await client.send(new SendMessageCommand({ QueueUrl, MessageBody: 'retry me' }));

    const first = await client.send(new ReceiveMessageCommand({ QueueUrl }));
    const hidden = await client.send(new ReceiveMessageCommand({ QueueUrl }));
    const second = await client.send(
      new ReceiveMessageCommand({
        QueueUrl,
        WaitTimeSeconds: 3,
        MessageSystemAttributeNames: ['ApproximateReceiveCount'],
      }),
    );

    expect(first.Messages).toHaveLength(1);
    expect(hidden.Messages ?? []).toHaveLength(0);
    expect(second.Messages?.[0]?.Body).toBe('retry me');
    expect(second.Messages?.[0]?.Attributes).toEqual({ ApproximateReceiveCount: '2' });
    expect(second.Messages?.[0]?.ReceiptHandle).not.toBe(first.Messages?.[0]?.ReceiptHandle);
  });

  it('does not delete with a stale receipt handle, as SQS does', async () => {
    const QueueUrl = await newQueue();
    await client.send(new SendMessageCommand({ QueueUrl, MessageBody: 'x' }));
    const first = await client.send(new ReceiveMessageCommand({ QueueUrl, VisibilityTimeout: 0 }));
    await client.send(new ReceiveMessageCommand({ QueueUrl }));

    await client.send(
      new DeleteMessageCommand({ QueueUrl, ReceiptHandle: first.Messages?.[0]?.ReceiptHandle }),
    );

    expect(sqs.messages(`q${queue}`)).toMatchObject([
      { body: 'x', receiveCount: 2, inFlight: true },
    ]);
  });

  it('makes a message visible at once with ChangeMessageVisibility 0', async () => {
    const QueueUrl = await newQueue();
    await client.send(new SendMessageCommand({ QueueUrl, MessageBody: 'now' }));
    const first = await client.send(
      new ReceiveMessageCommand({ QueueUrl, VisibilityTimeout: 600 }),
    );

    await client.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl,
        ReceiptHandle: first.Messages?.[0]?.ReceiptHandle,
        VisibilityTimeout: 0,
      }),
    );
    const second = await client.send(new ReceiveMessageCommand({ QueueUrl }));

    expect(second.Messages?.[0]?.Body).toBe('now');
  });

  it('counts visible and in-flight messages in GetQueueAttributes', async () => {
    const QueueUrl = await newQueue();
    await client.send(
      new SendMessageBatchCommand({
        QueueUrl,
        Entries: [1, 2, 3].map((n) => ({ Id: `m${n}`, MessageBody: `body ${n}` })),
      }),
    );
    await client.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 2 }));

    const { Attributes } = await client.send(
      new GetQueueAttributesCommand({
        QueueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );

    expect(Attributes).toEqual({
      ApproximateNumberOfMessages: '1',
      ApproximateNumberOfMessagesNotVisible: '2',
    });
  });

  it('reports per-entry failures in DeleteMessageBatch', async () => {
    const QueueUrl = await newQueue();
    await client.send(new SendMessageCommand({ QueueUrl, MessageBody: 'a' }));
    const got = await client.send(new ReceiveMessageCommand({ QueueUrl }));

    const out = await client.send(
      new DeleteMessageBatchCommand({
        QueueUrl,
        Entries: [
          { Id: 'good', ReceiptHandle: got.Messages?.[0]?.ReceiptHandle },
          { Id: 'bad', ReceiptHandle: 'not-a-handle' },
        ],
      }),
    );

    expect(out.Successful).toEqual([{ Id: 'good' }]);
    expect(out.Failed).toEqual([
      { Id: 'bad', SenderFault: true, Code: 'ReceiptHandleIsInvalid', Message: expect.any(String) },
    ]);
    expect(sqs.messages(`q${queue}`)).toHaveLength(0);
  });

  it('throws the typed QueueDoesNotExist error for an unknown queue', async () => {
    const err = await client
      .send(new SendMessageCommand({ QueueUrl: sqs.queueUrl('nope'), MessageBody: 'x' }))
      .catch((e: unknown) => e);

    expect(err).toBeInstanceOf(QueueDoesNotExist);
    expect(err).toMatchObject({
      Code: 'AWS.SimpleQueueService.NonExistentQueue',
      $metadata: { httpStatusCode: 400 },
    });
    await expect(client.send(new GetQueueUrlCommand({ QueueName: 'nope' }))).rejects.toBeInstanceOf(
      QueueDoesNotExist,
    );
  });

  it('throws ReceiptHandleIsInvalid for a receipt handle it never issued', async () => {
    await expect(
      client.send(
        new DeleteMessageCommand({ QueueUrl: sqs.queueUrl('ctr-events'), ReceiptHandle: 'forged' }),
      ),
    ).rejects.toBeInstanceOf(ReceiptHandleIsInvalid);
  });

  it('ends a long poll early when a message arrives', async () => {
    const QueueUrl = await newQueue();
    const started = Date.now();
    const polling = client.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 10 }));
    setTimeout(() => {
      void client.send(new SendMessageCommand({ QueueUrl, MessageBody: 'arrived' }));
    }, 200);

    const got = await polling;

    expect(got.Messages?.[0]?.Body).toBe('arrived');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('moves a message to the dead-letter queue after maxReceiveCount receives', async () => {
    const dlqUrl = await newQueue();
    const dlqName = `q${queue}`;
    const QueueUrl = await newQueue({
      VisibilityTimeout: '0',
      RedrivePolicy: JSON.stringify({
        deadLetterTargetArn: sqs.queueArn(dlqName),
        maxReceiveCount: 2,
      }),
    });
    await client.send(new SendMessageCommand({ QueueUrl, MessageBody: 'poison' }));

    const receives = [];
    for (let i = 0; i < 3; i++)
      receives.push(await client.send(new ReceiveMessageCommand({ QueueUrl })));

    expect(receives.map((r) => r.Messages?.length ?? 0)).toEqual([1, 1, 0]);
    const dead = await client.send(new ReceiveMessageCommand({ QueueUrl: dlqUrl }));
    expect(dead.Messages?.[0]?.Body).toBe('poison');
  });

  it('accepts messages put directly with enqueue', async () => {
    const QueueUrl = await newQueue();
    const id = sqs.enqueue(`q${queue}`, '{"Records":[{"eventName":"ObjectCreated:Put"}]}');

    const got = await client.send(new ReceiveMessageCommand({ QueueUrl }));

    expect(got.Messages?.[0]?.MessageId).toBe(id);
  });
});

describe('SqsPeer.stop', () => {
  it('ends a pending long poll with no messages and closes the port', async () => {
    const sqs = await startSqs({ queues: ['idle'] });
    const client = sqs.client({ maxAttempts: 1 });
    const started = Date.now();
    const polling = client.send(
      new ReceiveMessageCommand({ QueueUrl: sqs.queueUrl('idle'), WaitTimeSeconds: 20 }),
    );
    await new Promise((r) => setTimeout(r, 200));

    await sqs.stop();
    await sqs.stop();
    const got = await polling;

    expect(got.Messages ?? []).toHaveLength(0);
    expect(Date.now() - started).toBeLessThan(5000);
    await expect(fetch(sqs.endpoint)).rejects.toThrow();
    client.destroy();
  });
});
