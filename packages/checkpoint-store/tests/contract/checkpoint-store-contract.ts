/**
 * The one contract every backend passes, unchanged: memory, file, DynamoDB (dynalite) and
 * PostgreSQL. Each test uses its own random application name, so backends shared by the whole
 * suite (one table, one database) need no cleaning between tests.
 */
import { randomUUID } from 'node:crypto';
import {
  CheckpointRegressionError,
  type CheckpointStore,
  InvalidArgumentError,
  LeaseHeldError,
  LeaseLostError,
  StoreClosedError,
} from '@connect-wfm/checkpoint-store';

/** Creates stores on one backend instance. */
export interface ContractHarness {
  /** A new store instance on the shared backend, scoped to (application, stream). */
  create(application: string, stream: string): Promise<CheckpointStore>;
}

const SHARD0 = 'shardId-000000000000';
const SHARD1 = 'shardId-000000000001';
const SHARD2 = 'shardId-000000000002';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function expectRejection<E extends Error>(
  promise: Promise<unknown>,
  type: new (...args: never[]) => E,
): Promise<E> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(type);
  return err as E;
}

/**
 * Registers the contract suite for one backend. `setup` starts the backend (in beforeAll) and
 * `teardown` stops it (in afterAll, after every created store was closed).
 */
export function describeCheckpointStoreContract(
  name: string,
  setup: () => Promise<ContractHarness>,
  teardown?: () => Promise<void>,
): void {
  describe(`CheckpointStore contract: ${name}`, () => {
    let harness: ContractHarness;
    const created: CheckpointStore[] = [];
    let application: string;

    async function open(app = application, stream = 'agent-events'): Promise<CheckpointStore> {
      const store = await harness.create(app, stream);
      created.push(store);
      return store;
    }

    beforeAll(async () => {
      harness = await setup();
    });

    beforeEach(() => {
      application = `app-${randomUUID()}`;
    });

    afterAll(async () => {
      for (const store of created) await store.close();
      await teardown?.();
    });

    it('returns undefined and an empty map before anything was written', async () => {
      const store = await open();
      expect(await store.get(SHARD0)).toBeUndefined();
      expect((await store.getAll()).size).toBe(0);
    });

    it('reads back what was written, from another store instance too', async () => {
      const store = await open();
      const before = Date.now();
      await store.put(SHARD0, {
        sequenceNumber: '49590338271490256608559692538361571095921575989136588898',
      });
      const other = await open();
      const cp = await other.get(SHARD0);
      expect(cp).toMatchObject({
        sequenceNumber: '49590338271490256608559692538361571095921575989136588898',
        shardEnd: false,
      });
      expect(cp?.updatedAt).toBeInstanceOf(Date);
      expect(cp?.updatedAt.getTime()).toBeGreaterThanOrEqual(before - 1000);
      expect(cp?.updatedAt.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
    });

    it('scopes getAll to its own application and stream', async () => {
      const mine = await open(application, 'stream-a');
      const otherStream = await open(application, 'stream-b');
      const otherApp = await open(`${application}-x`, 'stream-a');
      await mine.putMany([
        [SHARD0, { sequenceNumber: '10' }],
        [SHARD1, { sequenceNumber: '11' }],
      ]);
      await otherStream.put(SHARD0, { sequenceNumber: '20' });
      await otherApp.put(SHARD2, { sequenceNumber: '30' });

      const all = await mine.getAll();
      expect([...all.keys()]).toEqual([SHARD0, SHARD1]);
      expect(all.get(SHARD0)?.sequenceNumber).toBe('10');
      expect((await otherStream.get(SHARD0))?.sequenceNumber).toBe('20');
      expect(await otherStream.get(SHARD1)).toBeUndefined();
      expect([...(await otherApp.getAll()).keys()]).toEqual([SHARD2]);
    });

    it('stores the SHARD_END marker next to the last sequence number and never clears it', async () => {
      const store = await open();
      await store.put(SHARD0, { sequenceNumber: '100' });
      await store.put(SHARD0, { shardEnd: true });
      expect(await store.get(SHARD0)).toMatchObject({ sequenceNumber: '100', shardEnd: true });

      await store.put(SHARD0, { sequenceNumber: '100', shardEnd: false });
      expect(await store.get(SHARD0)).toMatchObject({ sequenceNumber: '100', shardEnd: true });

      await store.put(SHARD1, { shardEnd: true });
      expect(await store.get(SHARD1)).toMatchObject({ sequenceNumber: null, shardEnd: true });

      await store.put(SHARD2, { sequenceNumber: '7', shardEnd: true });
      expect(await store.get(SHARD2)).toMatchObject({ sequenceNumber: '7', shardEnd: true });
    });

    it('refuses to move a checkpoint backwards and keeps the stored value', async () => {
      const store = await open();
      await store.put(SHARD0, { sequenceNumber: '200' });
      const err = await expectRejection(
        store.put(SHARD0, { sequenceNumber: '199' }),
        CheckpointRegressionError,
      );
      expect(err).toMatchObject({
        code: 'CHECKPOINT_REGRESSION',
        shardId: SHARD0,
        storedSequenceNumber: '200',
        attemptedSequenceNumber: '199',
      });
      expect((await store.get(SHARD0))?.sequenceNumber).toBe('200');
      await store.put(SHARD0, { sequenceNumber: '200' });
      expect((await store.get(SHARD0))?.sequenceNumber).toBe('200');
    });

    it('compares sequence numbers as bigint, up to 129 digits', async () => {
      const store = await open();
      const nines40 = '9'.repeat(40);
      const tenTo40 = `1${'0'.repeat(40)}`;
      await store.put(SHARD0, { sequenceNumber: nines40 });
      await store.put(SHARD0, { sequenceNumber: tenTo40 });
      expect((await store.get(SHARD0))?.sequenceNumber).toBe(tenTo40);
      await expectRejection(
        store.put(SHARD0, { sequenceNumber: nines40 }),
        CheckpointRegressionError,
      );

      const max = '9'.repeat(129);
      const almost = `9${'9'.repeat(127)}8`;
      await store.put(SHARD1, { sequenceNumber: '9'.repeat(128) });
      await store.put(SHARD1, { sequenceNumber: almost });
      await store.put(SHARD1, { sequenceNumber: max });
      expect((await store.get(SHARD1))?.sequenceNumber).toBe(max);
      await expectRejection(
        store.put(SHARD1, { sequenceNumber: almost }),
        CheckpointRegressionError,
      );
      // '2' > '10' as text, but not as a number
      await store.put(SHARD2, { sequenceNumber: '10' });
      await expectRejection(store.put(SHARD2, { sequenceNumber: '2' }), CheckpointRegressionError);
    });

    it('applies putMany all or nothing when one update would regress', async () => {
      const store = await open();
      await store.putMany([
        [SHARD0, { sequenceNumber: '5' }],
        [SHARD1, { sequenceNumber: '50' }],
      ]);
      await expectRejection(
        store.putMany([
          [SHARD0, { sequenceNumber: '6' }],
          [SHARD1, { sequenceNumber: '49' }],
          [SHARD2, { sequenceNumber: '1' }],
        ]),
        CheckpointRegressionError,
      );
      const all = await store.getAll();
      expect(all.get(SHARD0)?.sequenceNumber).toBe('5');
      expect(all.get(SHARD1)?.sequenceNumber).toBe('50');
      expect(all.has(SHARD2)).toBe(false);
    });

    it('applies repeated shards of one putMany in order', async () => {
      const store = await open();
      await store.putMany([
        [SHARD0, { sequenceNumber: '1' }],
        [SHARD0, { sequenceNumber: '2' }],
        [SHARD0, { shardEnd: true }],
      ]);
      expect(await store.get(SHARD0)).toMatchObject({ sequenceNumber: '2', shardEnd: true });
    });

    it('rejects malformed shard ids, sequence numbers and empty updates', async () => {
      const store = await open();
      await expectRejection(store.put(SHARD0, { sequenceNumber: '12e3' }), InvalidArgumentError);
      await expectRejection(store.put(SHARD0, { sequenceNumber: '-1' }), InvalidArgumentError);
      await expectRejection(store.put(SHARD0, { sequenceNumber: '0012' }), InvalidArgumentError);
      await expectRejection(
        store.put(SHARD0, { sequenceNumber: '1'.repeat(130) }),
        InvalidArgumentError,
      );
      await expectRejection(store.put(SHARD0, {}), InvalidArgumentError);
      await expectRejection(store.put('', { sequenceNumber: '1' }), InvalidArgumentError);
      await expectRejection(store.put('shard/0', { sequenceNumber: '1' }), InvalidArgumentError);
      expect((await store.getAll()).size).toBe(0);
    });

    it('treats a shard named __proto__ like any other', async () => {
      const store = await open();
      await store.put('__proto__', { sequenceNumber: '5' });
      await store.put('constructor', { shardEnd: true });
      expect((await (await open()).get('__proto__'))?.sequenceNumber).toBe('5');
      expect([...(await store.getAll()).keys()].sort()).toEqual(['__proto__', 'constructor']);
    });

    it('deletes one shard and ignores deleting an unknown one', async () => {
      const store = await open();
      await store.putMany([
        [SHARD0, { sequenceNumber: '1' }],
        [SHARD1, { sequenceNumber: '2' }],
      ]);
      await store.delete(SHARD0);
      await store.delete(SHARD2);
      expect(await store.get(SHARD0)).toBeUndefined();
      expect([...(await store.getAll()).keys()]).toEqual([SHARD1]);
      await store.put(SHARD0, { sequenceNumber: '0' });
      expect((await store.get(SHARD0))?.sequenceNumber).toBe('0');
    });

    it('acquires, renews and releases the leader lease', async () => {
      const a = await open();
      const b = await open();
      const before = Date.now();
      const lease = await a.acquireLease({ owner: 'pod-a', ttlMs: 5_000 });
      expect(lease.owner).toBe('pod-a');
      expect(lease.token).toBeGreaterThanOrEqual(1);
      expect(lease.expiresAt.getTime()).toBeGreaterThanOrEqual(before + 4_000);
      expect(lease.expiresAt.getTime()).toBeLessThanOrEqual(Date.now() + 6_000);

      await sleep(20);
      const renewed = await a.renewLease();
      expect(renewed.token).toBe(lease.token);
      expect(renewed.expiresAt.getTime()).toBeGreaterThan(lease.expiresAt.getTime());
      await a.put(SHARD0, { sequenceNumber: '1' });

      await a.releaseLease();
      const taken = await b.acquireLease({ owner: 'pod-b', ttlMs: 5_000 });
      expect(taken.owner).toBe('pod-b');
      expect(taken.token).toBeGreaterThan(lease.token);
      await b.put(SHARD0, { sequenceNumber: '2' });
      expect((await a.get(SHARD0))?.sequenceNumber).toBe('2');
    });

    it('refuses a lease held by another owner with LeaseHeldError', async () => {
      const a = await open();
      const b = await open();
      await a.acquireLease({ owner: 'pod-a', ttlMs: 10_000 });
      const err = await expectRejection(
        b.acquireLease({ owner: 'pod-b', ttlMs: 10_000 }),
        LeaseHeldError,
      );
      expect(err.owner).toBe('pod-a');
      expect(err.expiresAt.getTime()).toBeGreaterThan(Date.now());
      await a.put(SHARD0, { sequenceNumber: '3' });
      expect((await b.get(SHARD0))?.sequenceNumber).toBe('3');
    });

    it('fences the old owner once its expired lease was taken over', async () => {
      const old = await open();
      const next = await open();
      const first = await old.acquireLease({ owner: 'pod-old', ttlMs: 150 });
      await old.put(SHARD0, { sequenceNumber: '100' });
      await sleep(300);
      const second = await next.acquireLease({ owner: 'pod-new', ttlMs: 10_000 });
      expect(second.token).toBeGreaterThan(first.token);

      const lost = await expectRejection(
        old.put(SHARD0, { sequenceNumber: '101' }),
        LeaseLostError,
      );
      expect(lost).toMatchObject({ code: 'LEASE_LOST', owner: 'pod-old', token: first.token });
      await expectRejection(old.putMany([[SHARD1, { sequenceNumber: '1' }]]), LeaseLostError);
      await expectRejection(old.put(SHARD0, { shardEnd: true }), LeaseLostError);
      await expectRejection(old.delete(SHARD0), LeaseLostError);
      await expectRejection(old.renewLease(), LeaseLostError);
      // still fenced after the failed renew: no silent fallback to unfenced writes
      await expectRejection(old.put(SHARD0, { sequenceNumber: '102' }), LeaseLostError);

      await next.put(SHARD0, { sequenceNumber: '150' });
      expect(await next.get(SHARD0)).toMatchObject({ sequenceNumber: '150', shardEnd: false });
      expect(await next.get(SHARD1)).toBeUndefined();
      await next.renewLease();
    });

    it('keeps refusing the old owner after it calls releaseLease on a lost lease', async () => {
      const old = await open();
      const next = await open();
      await old.acquireLease({ owner: 'pod-old', ttlMs: 150 });
      await old.put(SHARD0, { sequenceNumber: '100' });
      await sleep(300);
      await next.acquireLease({ owner: 'pod-new', ttlMs: 10_000 });
      await next.put(SHARD0, { sequenceNumber: '150' });
      await expectRejection(old.put(SHARD0, { sequenceNumber: '500' }), LeaseLostError);

      // the usual shutdown path of the old owner
      await old.releaseLease();

      await expectRejection(old.put(SHARD0, { sequenceNumber: '500' }), LeaseLostError);
      await expectRejection(old.putMany([[SHARD1, { sequenceNumber: '1' }]]), LeaseLostError);
      await expectRejection(old.delete(SHARD0), LeaseLostError);
      await expectRejection(old.renewLease(), LeaseLostError);
      expect(await next.get(SHARD0)).toMatchObject({ sequenceNumber: '150', shardEnd: false });
      expect(await next.get(SHARD1)).toBeUndefined();
      await next.renewLease();
      await next.put(SHARD0, { sequenceNumber: '160' });

      // only a new acquisition lifts the refusal
      await expectRejection(old.acquireLease({ owner: 'pod-old', ttlMs: 10_000 }), LeaseHeldError);
      await expectRejection(old.put(SHARD0, { sequenceNumber: '500' }), LeaseLostError);
      await next.releaseLease();
      await old.acquireLease({ owner: 'pod-old', ttlMs: 10_000 });
      await old.put(SHARD0, { sequenceNumber: '500' });
      expect((await next.get(SHARD0))?.sequenceNumber).toBe('500');
    });

    it('refuses writes after a successful releaseLease until the lease is acquired again', async () => {
      const store = await open();
      const other = await open();
      await store.acquireLease({ owner: 'pod-a', ttlMs: 10_000 });
      await store.put(SHARD0, { sequenceNumber: '1' });
      await store.releaseLease();
      await expectRejection(store.put(SHARD0, { sequenceNumber: '2' }), LeaseLostError);
      await other.acquireLease({ owner: 'pod-b', ttlMs: 10_000 });
      await other.put(SHARD0, { sequenceNumber: '3' });
      await expectRejection(store.delete(SHARD0), LeaseLostError);
      expect((await other.get(SHARD0))?.sequenceNumber).toBe('3');
    });

    it('lets the old owner renew an expired lease nobody took', async () => {
      const store = await open();
      const lease = await store.acquireLease({ owner: 'pod-a', ttlMs: 100 });
      await sleep(200);
      const before = Date.now();
      const renewed = await store.renewLease();
      expect(renewed.token).toBe(lease.token);
      // a fresh term from the renewal (not `> Date.now()`: on a loaded machine the 100 ms term can
      // pass before this line runs)
      expect(renewed.expiresAt.getTime()).toBeGreaterThanOrEqual(before + 100);
      expect(renewed.expiresAt.getTime()).toBeGreaterThan(lease.expiresAt.getTime());
      await store.put(SHARD0, { sequenceNumber: '1' });
    });

    it('fences an older instance when the same owner acquires again', async () => {
      const first = await open();
      const restarted = await open();
      const l1 = await first.acquireLease({ owner: 'pod-a', ttlMs: 10_000 });
      const l2 = await restarted.acquireLease({ owner: 'pod-a', ttlMs: 10_000 });
      expect(l2.token).toBe(l1.token + 1);
      await expectRejection(first.put(SHARD0, { sequenceNumber: '1' }), LeaseLostError);
      await restarted.put(SHARD0, { sequenceNumber: '1' });
    });

    it('refuses renewLease when no lease was acquired and ignores releaseLease', async () => {
      const store = await open();
      await expectRejection(store.renewLease(), LeaseLostError);
      await store.releaseLease();
      await store.put(SHARD0, { sequenceNumber: '1' });
    });

    it('keeps the highest sequence number when two instances write concurrently', async () => {
      const a = await open();
      const b = await open();
      const writes: Array<Promise<'ok' | 'regressed'>> = [];
      const write = (store: CheckpointStore, shard: string, seq: number) =>
        store.put(shard, { sequenceNumber: String(seq) }).then(
          () => 'ok' as const,
          (err: unknown) => {
            if (err instanceof CheckpointRegressionError) return 'regressed' as const;
            throw err;
          },
        );
      for (let i = 1; i <= 15; i++) {
        writes.push(write(a, SHARD0, i * 2));
        writes.push(write(b, SHARD0, i * 2 + 1));
        writes.push(write(a, SHARD1, i));
        writes.push(write(b, SHARD2, i));
      }
      const outcomes = await Promise.all(writes);
      expect(outcomes.filter((o) => o === 'ok').length).toBeGreaterThan(0);
      const all = await (await open()).getAll();
      expect(all.get(SHARD0)?.sequenceNumber).toBe('31');
      // the highest value of a shard can never be refused, so it always lands
      expect(all.get(SHARD1)?.sequenceNumber).toBe('15');
      expect(all.get(SHARD2)?.sequenceNumber).toBe('15');
    });

    it('commits checkpoints and a state in one write and reads both back', async () => {
      const store = await open();
      expect(await store.getState()).toBeUndefined();
      const before = Date.now();
      const state = { agents: { a1: { state: 'Available', seq: 3 } }, pending: [], note: 'é€😀' };
      await store.commit(
        [
          [SHARD0, { sequenceNumber: '10' }],
          [SHARD1, { sequenceNumber: '11', shardEnd: true }],
        ],
        state,
      );
      const got = await (await open()).getState();
      expect(got?.state).toEqual(state);
      expect(got?.writtenAt).toBeInstanceOf(Date);
      expect(got?.writtenAt.getTime()).toBeGreaterThanOrEqual(before - 1000);
      expect(got?.writtenAt.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
      expect([...(got?.checkpoints.keys() ?? [])]).toEqual([SHARD0, SHARD1]);
      expect(got?.checkpoints.get(SHARD0)).toMatchObject({ sequenceNumber: '10', shardEnd: false });
      expect(got?.checkpoints.get(SHARD1)).toMatchObject({ sequenceNumber: '11', shardEnd: true });
      expect((await store.get(SHARD0))?.sequenceNumber).toBe('10');
      expect((await store.get(SHARD1))?.shardEnd).toBe(true);
    });

    it("keeps a commit's checkpoints in getState while later puts move getAll on", async () => {
      const store = await open();
      await store.put(SHARD2, { sequenceNumber: '5' });
      await store.commit([[SHARD0, { sequenceNumber: '10' }]], { n: 1 });
      await store.put(SHARD0, { sequenceNumber: '20' });
      await store.put(SHARD1, { shardEnd: true });
      const got = await store.getState();
      expect(got?.state).toEqual({ n: 1 });
      // every shard of the scope as it stood right after the commit, not only the updated ones
      expect([...(got?.checkpoints.keys() ?? [])]).toEqual([SHARD0, SHARD2]);
      expect(got?.checkpoints.get(SHARD0)?.sequenceNumber).toBe('10');
      expect(got?.checkpoints.get(SHARD2)?.sequenceNumber).toBe('5');
      expect((await store.get(SHARD0))?.sequenceNumber).toBe('20');
    });

    it('replaces the state at each commit, with or without checkpoint updates', async () => {
      const store = await open();
      await store.commit([[SHARD0, { sequenceNumber: '1' }]], ['first']);
      await store.commit([], null);
      let got = await store.getState();
      expect(got?.state).toBeNull();
      expect(got?.checkpoints.get(SHARD0)?.sequenceNumber).toBe('1');
      await store.commit([[SHARD0, { sequenceNumber: '2' }]], 'a string');
      got = await store.getState();
      expect(got?.state).toBe('a string');
      expect(got?.checkpoints.get(SHARD0)?.sequenceNumber).toBe('2');
      await store.commit(new Map([[SHARD1, { sequenceNumber: '3' }]]), {
        deep: [1, [2, { x: 3 }]],
      });
      got = await store.getState();
      expect(got?.state).toEqual({ deep: [1, [2, { x: 3 }]] });
      expect(got?.checkpoints.get(SHARD1)?.sequenceNumber).toBe('3');
    });

    it('refuses a whole commit when one update would regress, keeping the previous commit', async () => {
      const store = await open();
      await store.commit(
        [
          [SHARD0, { sequenceNumber: '50' }],
          [SHARD1, { sequenceNumber: '5' }],
        ],
        { v: 1 },
      );
      await expectRejection(
        store.commit(
          [
            [SHARD1, { sequenceNumber: '6' }],
            [SHARD0, { sequenceNumber: '49' }],
          ],
          { v: 2 },
        ),
        CheckpointRegressionError,
      );
      const got = await store.getState();
      expect(got?.state).toEqual({ v: 1 });
      expect(got?.checkpoints.get(SHARD1)?.sequenceNumber).toBe('5');
      expect((await store.get(SHARD1))?.sequenceNumber).toBe('5');
      expect((await store.get(SHARD0))?.sequenceNumber).toBe('50');
    });

    it('refuses a state JSON cannot carry and a malformed update, writing nothing', async () => {
      const store = await open();
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      for (const bad of [undefined, () => 1, 10n, cyclic]) {
        await expectRejection(
          store.commit([[SHARD0, { sequenceNumber: '1' }]], bad),
          InvalidArgumentError,
        );
      }
      await expectRejection(
        store.commit([[SHARD0, { sequenceNumber: '1e3' }]], {}),
        InvalidArgumentError,
      );
      expect(await store.getState()).toBeUndefined();
      expect(await store.get(SHARD0)).toBeUndefined();
    });

    it('fences commit() like put(): a deposed owner cannot write its state', async () => {
      const old = await open();
      const next = await open();
      await old.acquireLease({ owner: 'pod-old', ttlMs: 150 });
      await old.commit([[SHARD0, { sequenceNumber: '100' }]], { by: 'old' });
      await sleep(300);
      await next.acquireLease({ owner: 'pod-new', ttlMs: 10_000 });
      await expectRejection(
        old.commit([[SHARD0, { sequenceNumber: '101' }]], { by: 'old, late' }),
        LeaseLostError,
      );
      await expectRejection(old.commit([], { by: 'old, state only' }), LeaseLostError);
      await next.commit([[SHARD0, { sequenceNumber: '150' }]], { by: 'new' });
      await next.releaseLease();
      await expectRejection(next.commit([], { by: 'released' }), LeaseLostError);
      const got = await old.getState();
      expect(got?.state).toEqual({ by: 'new' });
      expect(got?.checkpoints.get(SHARD0)?.sequenceNumber).toBe('150');
    });

    it('keeps each state with its own checkpoints when two instances commit concurrently', async () => {
      const a = await open();
      const b = await open();
      // each writer commits in order; the two writers race each other
      const writer = async (store: CheckpointStore, name: 'a' | 'b', shard: string) => {
        for (let i = 1; i <= 6; i++) {
          await store.commit([[shard, { sequenceNumber: String(i) }]], { writer: name, i });
        }
      };
      await Promise.all([writer(a, 'a', SHARD0), writer(b, 'b', SHARD1)]);
      const got = await (await open()).getState();
      const state = got?.state as { writer: 'a' | 'b'; i: number };
      const shard = state.writer === 'a' ? SHARD0 : SHARD1;
      expect(got?.checkpoints.get(shard)?.sequenceNumber).toBe(String(state.i));
      expect((await a.get(SHARD0))?.sequenceNumber).toBe('6');
      expect((await a.get(SHARD1))?.sequenceNumber).toBe('6');
    });

    it('holds a state of 32 MB, multi-byte characters included', async () => {
      const store = await open();
      const unit = 'agent-ä€😀-';
      const agents: string[] = [];
      let size = 0;
      for (let i = 0; size < 33 * 1024 * 1024; i++) {
        const entry = `${i}:${unit.repeat(500)}`;
        agents.push(entry);
        size += Buffer.byteLength(entry) + 3;
      }
      const state = { agents };
      await store.commit([[SHARD0, { sequenceNumber: '7' }]], state);
      const got = await (await open()).getState();
      const back = got?.state as { agents: string[] };
      expect(back.agents.length).toBe(agents.length);
      expect(back.agents[0]).toBe(agents[0]);
      expect(back.agents.at(-1)).toBe(agents.at(-1));
      expect(JSON.stringify(back) === JSON.stringify(state)).toBe(true);
      expect(got?.checkpoints.get(SHARD0)?.sequenceNumber).toBe('7');
      // a small commit after a large one replaces it
      await store.commit([], { small: true });
      expect((await store.getState())?.state).toEqual({ small: true });
    }, 120_000);

    it('refuses every call after close with StoreClosedError', async () => {
      const store = await harness.create(application, 'agent-events');
      await store.close();
      await expectRejection(store.get(SHARD0), StoreClosedError);
      await expectRejection(store.put(SHARD0, { sequenceNumber: '1' }), StoreClosedError);
      await expectRejection(store.commit([], {}), StoreClosedError);
      await expectRejection(store.getState(), StoreClosedError);
      await store.close();
    });
  });
}
