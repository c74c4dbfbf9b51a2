import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileCheckpointStore } from '@connect-wfm/checkpoint-store';
import { KinesisShardReader, type ShardBatch } from '@connect-wfm/kinesis-shard-reader';
import { type KinesaliteServer, startKinesalite } from '@connect-wfm/testkit';
import { consume, fast, memoryStore, payloads, recordCount, spread } from './helpers.js';

describe('KinesisShardReader restarted on the same checkpoint store', () => {
  let kinesis: KinesaliteServer;
  let dir: string;

  beforeAll(async () => {
    kinesis = await startKinesalite();
    dir = mkdtempSync(join(tmpdir(), 'shard-reader-resume-'));
  });

  afterAll(async () => {
    await kinesis.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('resumes exactly after the last checkpoint: no gap, only the uncheckpointed batch again', async () => {
    await kinesis.createStream('resume', 2);
    const all = spread('r', 200, 2).map((r) => r.data as string);
    await kinesis.putRecords('resume', spread('r', 200, 2));
    // Each run opens the checkpoint file anew, as a restarted process would.
    const path = join(dir, 'checkpoints.json');
    const openStore = () =>
      new FileCheckpointStore({ application: 'test', stream: 'resume', path });
    const options = {
      stream: 'resume',
      initialPosition: { type: 'TRIM_HORIZON' },
      maxRecords: 25,
      ...fast,
    } as const;

    // First run: five batches, the fifth is processed but not checkpointed (a crash).
    const firstStore = openStore();
    const first = await consume(
      new KinesisShardReader({ client: kinesis.client(), checkpointStore: firstStore, ...options }),
      (b) => b.length >= 5,
      { checkpoint: (_b, i) => i < 4 },
    );
    await firstStore.close();
    expect(first).toHaveLength(5);
    const checkpointed = new Set(payloads(first.slice(0, 4)));
    const uncheckpointed = payloads(first.slice(4));

    // Second run: reads what was not checkpointed.
    const expected = all.length - checkpointed.size;
    const secondStore = openStore();
    const second: ShardBatch[] = await consume(
      new KinesisShardReader({
        client: kinesis.client(),
        checkpointStore: secondStore,
        ...options,
      }),
      (b) => recordCount(b) >= expected,
    );
    await secondStore.close();
    const again = payloads(second);

    expect(again.filter((p) => checkpointed.has(p))).toEqual([]);
    expect(again.sort()).toEqual(all.filter((p) => !checkpointed.has(p)).sort());
    expect(again).toEqual(expect.arrayContaining(uncheckpointed));
    // Each shard resumed right after its checkpoint.
    for (const shardId of ['shardId-000000000000', 'shardId-000000000001']) {
      const lastCheckpointed = first
        .slice(0, 4)
        .filter((b) => b.shardId === shardId)
        .at(-1)?.lastSequenceNumber;
      const firstAgain = second.find((b) => b.shardId === shardId)?.records[0]?.sequenceNumber;
      if (lastCheckpointed !== undefined && lastCheckpointed !== null && firstAgain) {
        expect(BigInt(firstAgain)).toBeGreaterThan(BigInt(lastCheckpointed));
      }
    }
  });

  it('never moves a checkpoint backwards when an older position is checkpointed late', async () => {
    await kinesis.createStream('monotonic', 1);
    await kinesis.putRecords('monotonic', spread('m', 30, 1));
    const store = memoryStore('monotonic');
    const reader = new KinesisShardReader({
      client: kinesis.client(),
      stream: 'monotonic',
      checkpointStore: store,
      initialPosition: { type: 'TRIM_HORIZON' },
      maxRecords: 10,
      ...fast,
    });
    const batches = await consume(reader, (b) => b.length >= 3, { checkpoint: () => false });
    const [b0, , b2] = batches;
    if (b0 === undefined || b2 === undefined) throw new Error('expected three batches');
    await reader.checkpoint(b2);
    await reader.checkpoint(b0);
    expect((await store.get('shardId-000000000000'))?.sequenceNumber).toBe(b2.lastSequenceNumber);
  });
});
