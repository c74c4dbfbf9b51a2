import { KinesisClient } from '@aws-sdk/client-kinesis';
import { MemoryCheckpointStore } from '@connect-wfm/checkpoint-store';
import {
  InvalidOptionsError,
  KinesisShardReader,
  type KinesisShardReaderOptions,
} from '@connect-wfm/kinesis-shard-reader';

const client = new KinesisClient({ region: 'eu-west-1' });
const checkpointStore = new MemoryCheckpointStore({ application: 'a', stream: 's' });
const valid: KinesisShardReaderOptions = {
  client,
  stream: 'agent-events',
  checkpointStore,
  initialPosition: { type: 'TRIM_HORIZON' },
};

afterAll(() => client.destroy());

describe('KinesisShardReader options', () => {
  it('accepts a minimal valid configuration and reads nothing before iteration', () => {
    const reader = new KinesisShardReader(valid);
    expect(reader.metrics()).toMatchObject({ recordsRead: 0, shardStarts: 0, caughtUp: false });
  });

  it('reports every problem at once, unknown keys included', () => {
    let error: unknown;
    try {
      new KinesisShardReader({
        ...valid,
        stream: 'not a stream',
        maxRecords: 20_000,
        maxRecordsInFlight: 0,
        minBackToBackMs: 50,
        initialPosition: { type: 'AT_TIMESTAMP', timestamp: new Date('nope') },
        throttleBackoff: { baseMs: 900, maxMs: 100 },
        shardDiscoveryIntervalMs: -1,
        childShardStart: 'parent-read',
        extra: true,
      } as unknown as KinesisShardReaderOptions);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(InvalidOptionsError);
    const paths = (error as InvalidOptionsError).issues.map((i) => i.path).sort();
    expect(paths).toEqual(
      expect.arrayContaining([
        'stream',
        'maxRecords',
        'maxRecordsInFlight',
        'minBackToBackMs',
        'initialPosition.timestamp',
        'throttleBackoff',
        'shardDiscoveryIntervalMs',
        'childShardStart',
      ]),
    );
    expect((error as InvalidOptionsError).message).toMatch(/extra/);
    expect((error as InvalidOptionsError).code).toBe('INVALID_OPTIONS');
  });

  it('rejects a client and a store of the wrong kind', () => {
    expect(
      () =>
        new KinesisShardReader({
          ...valid,
          client: {} as KinesisClient,
          checkpointStore: {} as MemoryCheckpointStore,
        }),
    ).toThrow(/client.*checkpointStore|checkpointStore.*client/s);
  });
});
