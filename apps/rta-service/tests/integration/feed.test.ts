import type { DaemonProcess } from '../support/daemon.js';
import {
  eventually,
  LOGGED_OFF,
  regressions,
  stopAndExpectDelivered,
  useFeed,
} from '../support/feed.js';

const AGENTS = Array.from({ length: 24 }, (_, i) => `agent.${String(i).padStart(2, '0')}`);

const fixture = useFeed({ shards: 2 });
let daemon: DaemonProcess | undefined;

describe('connect-wfm-rta: cold start, deltas, shutdown', () => {
  it('reads the window to the tip and posts exactly one snapshot with every agent, then only changed agents', async () => {
    const { feed } = fixture;
    // Several events per agent; the newest decides. One agent logs out, one is on a call.
    await feed.put(AGENTS.map((username) => ({ username, type: 'LOGIN', status: 'Available' })));
    await feed.put(
      AGENTS.map((username, i) => ({ username, status: i % 2 ? 'Break' : 'Training' })),
    );
    await feed.put([
      { username: 'agent.03', type: 'LOGOUT', status: 'Break' },
      { username: 'agent.03', type: 'HEART_BEAT', status: 'Break' },
    ]);

    daemon = fixture.start({}, 'cold');
    // The heap setting is applied at start, and said so (DESIGN.md#memory).
    const start = await daemon.waitForMsg('connect-wfm-rta starting');
    expect(start.heapGrowth).toEqual({ applied: 'setting', percent: 20 });
    await daemon.waitForMsg('snapshot accepted by the WFM');
    const snapshots = feed.receiver.batches.filter((b) => b.isSnapshot);
    expect(snapshots).toHaveLength(1);
    const snapshot = snapshots[0];
    expect(snapshot?.states.map((s) => s.userCode).sort()).toEqual(AGENTS);
    expect(
      Object.fromEntries(snapshot?.states.map((s) => [s.userCode, s.stateCode]) ?? []),
    ).toEqual(Object.fromEntries(feed.expected));
    expect(feed.expected.get('agent.03')).toBe(LOGGED_OFF);
    await daemon.waitForMsg('committed state and checkpoints');

    // Deltas: only the agents that changed; a heartbeat repeating a state sends nothing.
    const before = feed.receiver.batches.length;
    await feed.put([
      { username: 'agent.05', status: 'Lunch' },
      { username: 'agent.05', status: 'Meeting' },
      { username: 'agent.06', status: 'Available', contacts: [{ State: 'CONNECTED' }] },
      { username: 'agent.07', type: 'HEART_BEAT', status: feed.expected.get('agent.07') ?? '' },
    ]);
    await eventually(
      () =>
        feed.receiver.stateOf('agent.06')?.stateCode === 'OnContact' &&
        feed.receiver.stateOf('agent.05')?.stateCode === 'Meeting',
      20_000,
      'the delta reached the WFM',
    );
    const deltas = feed.receiver.batches.slice(before);
    expect(deltas.every((b) => !b.isSnapshot)).toBe(true);
    const sent = deltas.flatMap((b) => b.states.map((s) => `${s.userCode}=${s.stateCode}`));
    expect(sent.sort()).toEqual(['agent.05=Meeting', 'agent.06=OnContact']);

    const ready = await daemon.get('/readyz');
    expect(ready.status).toBe(200);
    const metrics = await daemon.get('/metrics');
    expect(metrics.body).toMatch(/rta_states_posted_total\{kind="snapshot"\} 24/);
    expect(metrics.body).toMatch(/rta_lease_leader 1/);
    expect(metrics.body).toMatch(/rta_shard_millis_behind_latest\{shard="shardId-/);
    expect((await daemon.get('/healthz')).status).toBe(200);
  });

  it('drains on SIGTERM: commits, releases the lease and exits 0', async () => {
    const { feed } = fixture;
    await feed.put([{ username: 'agent.10', status: 'Coaching' }]);
    await eventually(
      () => feed.receiver.stateOf('agent.10')?.stateCode === 'Coaching',
      20_000,
      'agent.10 delivered',
    );
    const running = daemon as DaemonProcess;
    const { code } = await running.stop();
    expect(code).toBe(0);
    const stopping = running.lines.findIndex((l) => String(l.msg).startsWith('stopping: draining'));
    const finalCommit = running.lines.findLastIndex(
      (l) => l.msg === 'committed state and checkpoints',
    );
    expect(stopping).toBeGreaterThan(0);
    expect(finalCommit).toBeGreaterThan(stopping);
    expect(running.lines.at(-1)?.msg).toBe('connect-wfm-rta stopped');
    expect(regressions(feed)).toEqual([]);
  });

  it('a warm start reads to the tip before posting and sends no snapshot', async () => {
    const { feed } = fixture;
    await feed.put([{ username: 'agent.11', status: 'Lunch' }]);
    daemon = fixture.start({}, 'warm');
    await daemon.waitForMsg('warm start: resuming from the committed state and checkpoints');
    await eventually(
      () => feed.receiver.stateOf('agent.11')?.stateCode === 'Lunch',
      20_000,
      'agent.11 delivered after the restart',
    );
    expect(feed.receiver.batches.filter((b) => b.isSnapshot)).toHaveLength(1);
    await stopAndExpectDelivered(feed, daemon);
  });
});
