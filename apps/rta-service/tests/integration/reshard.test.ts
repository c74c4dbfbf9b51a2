import { join } from 'node:path';
import { startDaemon } from '../support/daemon.js';
import { eventually, regressions, statusSequence, useFeed } from '../support/feed.js';

const AGENTS = Array.from({ length: 16 }, (_, i) => `agent.r${String(i).padStart(2, '0')}`);

const fixture = useFeed({ shards: 2 });

describe('connect-wfm-rta across resharding', () => {
  it('a split and a merge during a run lose nothing and reorder nothing; a later cold start reads through them', async () => {
    const { feed } = fixture;
    const next = statusSequence('R');
    const round = () => feed.put(AGENTS.map((username) => ({ username, status: next() })));
    await round();
    const daemon = fixture.start({}, 'reshard');
    await daemon.waitForMsg('ready: first delivery accepted; polling');

    const [first] = await feed.kinesis.listShards(feed.stream);
    const [left, right] = await feed.kinesis.splitShard(feed.stream, first?.ShardId as string);
    await round();
    await round();
    await feed.kinesis.mergeShards(feed.stream, left, right);
    await round();
    await eventually(
      () => AGENTS.every((u) => feed.receiver.stateOf(u)?.stateCode === feed.expected.get(u)),
      30_000,
      'every newest state after the split and the merge',
    );
    expect(regressions(feed)).toEqual([]);
    expect((await daemon.stop()).code).toBe(0);

    // A new deployment (empty store) cold-starts over the resharded window: one snapshot, no deadlock.
    const snapshotsBefore = feed.receiver.batches.filter((b) => b.isSnapshot).length;
    const cold = startDaemon(
      feed.env({ RTA_STORE: `file:${join(feed.dir, 'other-state.json')}`, RTA_INSTANCE_ID: 'x' }),
      'cold-after-reshard',
    );
    await cold.waitForMsg('snapshot accepted by the WFM', 30_000);
    const snapshots = feed.receiver.batches.filter((b) => b.isSnapshot);
    expect(snapshots).toHaveLength(snapshotsBefore + 1);
    const last = snapshots.at(-1);
    expect(Object.fromEntries(last?.states.map((s) => [s.userCode, s.stateCode]) ?? [])).toEqual(
      Object.fromEntries(feed.expected),
    );
    expect((await cold.stop()).code).toBe(0);
  }, 120_000);
});
