import { eventually, statusSequence, stopAndExpectDelivered, useFeed } from '../support/feed.js';

const AGENTS = Array.from({ length: 30 }, (_, i) => `agent.k${String(i).padStart(2, '0')}`);

// A WFM that answers after 150 ms, so that kills often land while a POST is in flight.
const fixture = useFeed({ shards: 2, receiver: { answerDelayMs: 150 } });

/** Deterministic pseudo-random numbers (a failing run can be replayed). */
function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}

describe('connect-wfm-rta under kill -9', () => {
  it('10 kills at random moments: the WFM ends on every newest state and never moves back', async () => {
    const { feed } = fixture;
    const random = lcg(Number(process.env.RTA_KILL_SEED ?? 20261206));
    const nextStatus = statusSequence('S');
    await feed.put(AGENTS.map((username) => ({ username, type: 'LOGIN', status: nextStatus() })));

    // Events keep arriving during the whole run: a few agents change every 100 ms.
    let producing = true;
    const producer = (async () => {
      while (producing) {
        const changes = Array.from({ length: 4 }, () => ({
          username: AGENTS[Math.floor(random() * AGENTS.length)] as string,
          status: nextStatus(),
        }));
        await feed.put(changes);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();

    for (let kill = 1; kill <= 10; kill += 1) {
      const daemon = fixture.start({}, `run-${kill}`);
      // Odd kills land anywhere in the start-up (reading, snapshot, first commit); even kills
      // after the daemon is polling, often while a POST is in flight.
      await daemon.waitForMsg('leader lease acquired: this instance leads', 30_000);
      if (kill % 2 === 0)
        await daemon.waitForMsg('ready: first delivery accepted; polling', 60_000);
      await new Promise((r) => setTimeout(r, 200 + Math.floor(random() * 1300)));
      await daemon.kill9();
    }
    producing = false;
    await producer;

    const last = fixture.start({}, 'final');
    await eventually(
      () => AGENTS.every((a) => feed.receiver.stateOf(a)?.stateCode === feed.expected.get(a)),
      45_000,
      'the WFM shows every newest state',
    );
    await stopAndExpectDelivered(feed, last);
    // A cold start snapshot at most until the first commit; warm starts afterwards.
    const snapshots = feed.receiver.batches.filter((b) => b.isSnapshot).length;
    expect(snapshots).toBeGreaterThanOrEqual(1);
    expect(
      fixture.daemons.some((d) => d.lines.some((l) => String(l.msg).startsWith('warm start'))),
    ).toBe(true);
  }, 150_000);
});
