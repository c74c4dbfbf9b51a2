import { type SqsPeer, startSqs } from '@connect-wfm/testkit';
import { drainQueue, type MessageOutcome, processSqsBatch } from '../../src/index.js';

const ok = (messageId: string): MessageOutcome => ({
  messageId,
  acknowledge: true,
  retryable: false,
  objects: [],
});
const failed = (messageId: string): MessageOutcome => ({
  messageId,
  acknowledge: false,
  retryable: true,
  objects: [],
});

describe('drainQueue against the SQS endpoint', () => {
  let sqs: SqsPeer;
  beforeAll(async () => {
    sqs = await startSqs({ queues: ['q-extend', 'q-fail', 'q-time'] });
  });
  afterAll(async () => {
    await sqs?.stop();
  });

  it('extends the visibility of a message while it is in flight, then deletes it', async () => {
    sqs.enqueue('q-extend', 'big object');
    const before = sqs.requestCount('ChangeMessageVisibility');
    const result = await drainQueue(
      {
        processMessage: async (_body, id) => {
          // Stay "in flight" until the drain has extended the visibility twice.
          for (
            let i = 0;
            i < 400 && sqs.requestCount('ChangeMessageVisibility') - before < 2;
            i++
          ) {
            await new Promise((r) => setTimeout(r, 25));
          }
          return ok(id);
        },
      },
      {
        sqs: sqs.client(),
        queueUrl: sqs.queueUrl('q-extend'),
        remainingMs: () => 600_000,
        reserveMs: 0,
        visibilityTimeoutSeconds: 30,
        extendEveryMs: 50,
        waitTimeSeconds: 0,
      },
    );
    expect(sqs.requestCount('ChangeMessageVisibility') - before).toBeGreaterThanOrEqual(2);
    expect(result).toMatchObject({ received: 1, deleted: 1, failed: 0, stoppedBecause: 'empty' });
    expect(sqs.messages('q-extend')).toHaveLength(0);
  });

  it('leaves a failed message in the queue, invisible, without processing it twice in one run', async () => {
    sqs.enqueue('q-fail', 'poison');
    let calls = 0;
    const result = await drainQueue(
      {
        processMessage: async (_b, id) => {
          calls++;
          return failed(id);
        },
      },
      {
        sqs: sqs.client(),
        queueUrl: sqs.queueUrl('q-fail'),
        remainingMs: () => 600_000,
        reserveMs: 0,
        waitTimeSeconds: 0,
      },
    );
    expect(calls).toBe(1);
    expect(result).toMatchObject({ received: 1, deleted: 0, failed: 1, stoppedBecause: 'empty' });
    const [left] = sqs.messages('q-fail');
    expect(left?.inFlight).toBe(true);
  });

  it('releases the messages it could not start when time runs short', async () => {
    for (const b of ['a', 'b', 'c']) sqs.enqueue('q-time', b);
    let left = 2; // two checks with time to spare (the receive and the first message)
    const result = await drainQueue(
      { processMessage: async (_b, id) => ok(id) },
      {
        sqs: sqs.client(),
        queueUrl: sqs.queueUrl('q-time'),
        remainingMs: () => (left-- > 0 ? 600_000 : 10),
        reserveMs: 1000,
        waitTimeSeconds: 0,
      },
    );
    expect(result).toMatchObject({ deleted: 1, released: 2, stoppedBecause: 'time' });
    const messages = sqs.messages('q-time');
    expect(messages).toHaveLength(2);
    expect(messages.every((m) => !m.inFlight)).toBe(true);
  });
});

describe('processSqsBatch', () => {
  it('lists failed messages and those not started for lack of time', async () => {
    let left = 2;
    const out = await processSqsBatch(
      { processMessage: async (body, id) => (body === 'bad' ? failed(id) : ok(id)) },
      [
        { messageId: '1', body: 'good' },
        { messageId: '2', body: 'bad' },
        { messageId: '3', body: 'good' },
      ],
      { remainingMs: () => (left-- > 0 ? 60_000 : 5), reserveMs: 1000 },
    );
    expect(out).toEqual({ batchItemFailures: [{ itemIdentifier: '2' }, { itemIdentifier: '3' }] });
  });
});
