// The resharded stream that cold-start.test.ts and resharding.test.ts read: twelve partition
// keys written in phases around a split of shard 0 and a merge of its right child with shard 1,
// read straight from kinesalite (no ChildShards in GetRecords) or through the fault proxy that
// adds ChildShards as real Kinesis does.
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import {
  type KinesaliteServer,
  type KinesisFaultProxy,
  type PutRecordInput,
  startKinesalite,
  startKinesisFaultProxy,
} from '@connect-wfm/testkit';

export const KEYS = Array.from({ length: 12 }, (_, i) => `agent-${i}`);

/** The two ways of reading the stream, for `it.each`. */
export const VIAS = [
  ['without ChildShards (as kinesalite)', 'direct'],
  ['with ChildShards in GetRecords (as real Kinesis)', 'proxy'],
] as const;
export type Via = (typeof VIAS)[number][1];

/** The shards that end: shard 0 (split), its right child 3 and shard 1 (merged). */
export const ENDED_SHARDS = [
  'shardId-000000000000',
  'shardId-000000000001',
  'shardId-000000000003',
];

/** Records `${key}:${n}`, n counting up per key from `from`. */
export function phase(from: number, perKey: number): PutRecordInput[] {
  const out: PutRecordInput[] = [];
  for (let n = from; n < from + perKey; n++) {
    for (const key of KEYS) out.push({ data: `${key}:${n}`, partitionKey: key });
  }
  return out;
}

/** Every key's records, exactly once each, in order: `${key}:${from}` … `${key}:${from + perKey - 1}`. */
export function expectEveryKeyInOrder(seen: readonly string[], perKey: number, from = 0): void {
  expect(seen).toHaveLength(KEYS.length * perKey);
  expect(new Set(seen).size).toBe(seen.length);
  for (const key of KEYS) {
    const ns = seen.filter((s) => s.startsWith(`${key}:`)).map((s) => Number(s.split(':')[1]));
    expect(ns).toEqual(Array.from({ length: perKey }, (_, i) => from + i));
  }
}

/** kinesalite and a ChildShards proxy in front of it, started and stopped with the suite. */
export function reshardPeers(): {
  kinesis(): KinesaliteServer;
  client(via: Via): KinesisClient;
} {
  let kinesis: KinesaliteServer | undefined;
  let proxy: KinesisFaultProxy | undefined;
  beforeAll(async () => {
    kinesis = await startKinesalite();
    proxy = await startKinesisFaultProxy({ target: kinesis.endpoint, childShards: 'present' });
  });
  afterAll(async () => {
    await proxy?.stop();
    await kinesis?.stop();
  });
  const started = (): KinesaliteServer => {
    if (kinesis === undefined) throw new Error('reshardPeers: used outside a test');
    return kinesis;
  };
  return {
    kinesis: started,
    client: (via) => {
      if (via === 'direct') return started().client();
      if (proxy === undefined) throw new Error('reshardPeers: used outside a test');
      return proxy.client();
    },
  };
}

/**
 * Writes `perPhase` records per key three times: before a split of shard 0, between the split and
 * the merge of its right child with shard 1, and after. Returns the merged shard's id.
 */
export async function splitAndMerge(
  kinesis: KinesaliteServer,
  stream: string,
  perPhase: number,
): Promise<string> {
  await kinesis.putRecords(stream, phase(0, perPhase));
  const [, right] = await kinesis.splitShard(stream, 'shardId-000000000000');
  await kinesis.putRecords(stream, phase(perPhase, perPhase));
  const merged = await kinesis.mergeShards(stream, right, 'shardId-000000000001');
  await kinesis.putRecords(stream, phase(2 * perPhase, perPhase));
  return merged;
}
