import {
  CheckpointRegressionError,
  MemoryCheckpointStore,
  MemoryCheckpointTable,
} from '@connect-wfm/checkpoint-store';
import fc from 'fast-check';
import { describeCheckpointStoreContract } from '../contract/checkpoint-store-contract.js';

let table: MemoryCheckpointTable;
describeCheckpointStoreContract('memory', async () => {
  table = new MemoryCheckpointTable();
  return {
    create: async (application, stream) =>
      new MemoryCheckpointStore({ application, stream, table }),
  };
});

describe('MemoryCheckpointStore', () => {
  it('keeps separate data per table', async () => {
    const a = new MemoryCheckpointStore({ application: 'rta', stream: 's' });
    const b = new MemoryCheckpointStore({ application: 'rta', stream: 's' });
    await a.put('shardId-000000000000', { sequenceNumber: '1' });
    expect(await b.get('shardId-000000000000')).toBeUndefined();
  });

  it('judges lease expiry with the injected clock', async () => {
    let now = 1_000_000;
    const shared = new MemoryCheckpointTable();
    const clock = () => now;
    const a = new MemoryCheckpointStore({ application: 'rta', stream: 's', table: shared, clock });
    const b = new MemoryCheckpointStore({ application: 'rta', stream: 's', table: shared, clock });
    const lease = await a.acquireLease({ owner: 'a', ttlMs: 1000 });
    expect(lease.expiresAt.getTime()).toBe(1_001_000);
    now += 999;
    await expect(b.acquireLease({ owner: 'b', ttlMs: 1000 })).rejects.toMatchObject({
      code: 'LEASE_HELD',
    });
    now += 1;
    await expect(b.acquireLease({ owner: 'b', ttlMs: 1000 })).resolves.toMatchObject({
      owner: 'b',
      token: 2,
    });
  });

  it('stores the highest accepted sequence number and refuses exactly the lower ones', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.bigInt({ min: 0n, max: 10n ** 129n - 1n }), { minLength: 1, maxLength: 30 }),
        async (values) => {
          const store = new MemoryCheckpointStore({ application: 'rta', stream: 's' });
          let max: bigint | undefined;
          for (const v of values) {
            const attempt = store.put('shardId-000000000000', { sequenceNumber: v.toString() });
            if (max !== undefined && v < max) {
              await expect(attempt).rejects.toBeInstanceOf(CheckpointRegressionError);
            } else {
              await attempt;
              max = v;
            }
          }
          expect((await store.get('shardId-000000000000'))?.sequenceNumber).toBe(String(max));
        },
      ),
      { numRuns: 200 },
    );
  });
});
