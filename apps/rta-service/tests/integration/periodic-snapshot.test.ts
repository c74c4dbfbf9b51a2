import { eventually, stopAndExpectDelivered, useFeed } from '../support/feed.js';

const AGENTS = Array.from({ length: 12 }, (_, i) => `agent.p${String(i).padStart(2, '0')}`);
const fixture = useFeed({ shards: 2 });

describe('connect-wfm-rta: the optional periodic full snapshot', () => {
  it('sends a second IsSnapshot request holding exactly the current agents, and moves no agent back', async () => {
    const { feed } = fixture;
    // The safety net is on with a short interval (it is off by default).
    const daemon = await fixture.startWithAgents(AGENTS, 'periodic', {
      RTA_FULL_SNAPSHOT_INTERVAL_MS: '2000',
    });
    // Changes after the first snapshot: the next one must carry them, not the states it sent.
    await feed.put(
      AGENTS.map((username, i) => ({ username, status: i % 3 ? 'Break' : 'Training' })),
    );
    await feed.put([
      { username: 'agent.p01', type: 'LOGOUT', status: 'Break' },
      { username: 'agent.p02', status: 'Available', contacts: [{ State: 'CONNECTED' }] },
    ]);
    await eventually(
      () => AGENTS.every((u) => feed.receiver.stateOf(u)?.stateCode === feed.expected.get(u)),
      20_000,
      'every change delivered',
    );
    const delivered = feed.receiver.batches.length;
    await eventually(
      () => feed.receiver.batches.slice(delivered).some((b) => b.isSnapshot),
      20_000,
      'a periodic snapshot after the changes',
    );
    const second = feed.receiver.batches.slice(delivered).find((b) => b.isSnapshot);
    expect(feed.receiver.batches.filter((b) => b.isSnapshot).length).toBeGreaterThanOrEqual(2);
    expect(second?.states.map((s) => s.userCode).sort()).toEqual(AGENTS);
    expect(Object.fromEntries(second?.states.map((s) => [s.userCode, s.stateCode]) ?? [])).toEqual(
      Object.fromEntries(feed.expected),
    );
    await daemon.waitFor(
      (l) => l.msg === 'snapshot accepted by the WFM' && Number(l.delivery) > 1,
      10_000,
      'the periodic snapshot logged as accepted',
    );
    await stopAndExpectDelivered(feed, daemon);
  });
});
