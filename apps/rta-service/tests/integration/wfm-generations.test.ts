import { type DaemonProcess, ensureBundle, startDaemon } from '../support/daemon.js';
import { eventually, type Feed, regressions, startFeed, statusSequence } from '../support/feed.js';

const AGENTS = Array.from({ length: 10 }, (_, i) => `agent.g${i}`);
const GHOST = 'agent.ghost';

const running: DaemonProcess[] = [];
const feeds: Feed[] = [];

beforeAll(async () => {
  await ensureBundle();
}, 120_000);

afterAll(async () => {
  for (const d of running) await d.kill9();
  for (const f of feeds) await f.stop();
});

describe('connect-wfm-rta against each WFM behaviour', () => {
  it('a synchronous server that knows no person for one user: the user is set aside (logged, counted), everyone else delivered, snapshot included', async () => {
    const feed = await startFeed({
      shards: 1,
      receiver: { mode: 'synchronous', knownUsers: AGENTS },
    });
    feeds.push(feed);
    await feed.put([...AGENTS, GHOST].map((username) => ({ username, status: 'Available' })));
    const daemon = startDaemon(feed.env(), 'sync');
    running.push(daemon);
    await daemon.waitForMsg('snapshot accepted by the WFM');
    const setAside = await daemon.waitFor(
      (l) => Array.isArray(l.users) && (l.users as string[]).includes(GHOST),
      30_000,
      'the set-aside log line',
    );
    expect(setAside.level).toBe(40);
    expect(AGENTS.every((u) => feed.receiver.stateOf(u)?.stateCode === 'Available')).toBe(true);

    await feed.put([
      { username: GHOST, status: 'Break' },
      { username: 'agent.g4', status: 'Lunch' },
    ]);
    await eventually(
      () => feed.receiver.stateOf('agent.g4')?.stateCode === 'Lunch',
      60_000,
      'the known agent of the same poll delivered',
    );
    await eventually(
      async () => /rta_rejected_users_total 2/.test((await daemon.get('/metrics')).body),
      30_000,
      'both set-aside states counted',
    );
    expect(feed.receiver.stateOf(GHOST)).toBeUndefined();
    expect((await daemon.stop()).code).toBe(0);
  }, 180_000);

  it('a current server whose worker applies queued batches newest first still ends on every newest state', async () => {
    const feed = await startFeed({
      shards: 1,
      receiver: { mode: 'current', worker: { intervalMs: 200, order: 'reverse' } },
    });
    feeds.push(feed);
    const next = statusSequence('W');
    await feed.put(AGENTS.map((username) => ({ username, status: next() })));
    const daemon = startDaemon(feed.env({ RTA_POLL_MS: '500' }), 'reverse');
    running.push(daemon);
    await daemon.waitForMsg('snapshot accepted by the WFM');
    for (let round = 0; round < 8; round += 1) {
      await feed.put(
        AGENTS.filter((_, i) => (i + round) % 3 === 0).map((username) => ({
          username,
          status: next(),
        })),
      );
      await new Promise((r) => setTimeout(r, 250));
    }
    await eventually(
      () => AGENTS.every((u) => feed.receiver.stateOf(u)?.stateCode === feed.expected.get(u)),
      60_000,
      'every newest state applied',
    );
    // One state per agent per request.
    for (const batch of feed.receiver.batches) {
      const users = batch.states.map((s) => s.userCode);
      expect(new Set(users).size).toBe(users.length);
    }
    expect(regressions(feed)).toEqual([]);
    expect((await daemon.stop()).code).toBe(0);
  }, 180_000);
});
