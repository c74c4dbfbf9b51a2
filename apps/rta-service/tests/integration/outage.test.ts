import { FileCheckpointStore } from '@connect-wfm/checkpoint-store';
import type { DaemonProcess } from '../support/daemon.js';
import { eventually, regressions, statusSequence, useFeed } from '../support/feed.js';

const AGENTS = Array.from({ length: 12 }, (_, i) => `agent.o${String(i).padStart(2, '0')}`);

const fixture = useFeed({ shards: 2 });
let daemon: DaemonProcess | undefined;

interface Committed {
  writtenAt: number;
  accepted: Map<string, string | undefined>;
}

async function committed(): Promise<Committed | undefined> {
  const { feed } = fixture;
  const store = new FileCheckpointStore({
    application: 'connect-wfm-rta',
    stream: feed.stream,
    path: `${feed.dir}/state.json`,
  });
  try {
    const saved = (await store.getState()) as
      | {
          state: { agents: { userCode: string; accepted: { stateCode: string } | null }[] };
          writtenAt: Date;
        }
      | undefined;
    if (saved === undefined) return undefined;
    return {
      writtenAt: saved.writtenAt.getTime(),
      accepted: new Map(saved.state.agents.map((a) => [a.userCode, a.accepted?.stateCode])),
    };
  } finally {
    await store.close();
  }
}

/** Every accepted state in the commit was applied at the WFM (the commit covers only deliveries). */
function coveredByWfm(c: Committed): string[] {
  const { feed } = fixture;
  const bad: string[] = [];
  for (const [user, code] of c.accepted) {
    if (code === undefined) continue;
    if (!feed.receiver.historyOf(user).some((s) => s.stateCode === code)) {
      bad.push(`${user}=${code}`);
    }
  }
  return bad;
}

describe('connect-wfm-rta during a WFM outage', () => {
  it('500s then refused connections for 60 s: nothing committed past what was delivered, everything delivered after', async () => {
    const { feed } = fixture;
    const next = statusSequence('O');
    let step = 0;
    await feed.put(AGENTS.map((username) => ({ username, type: 'LOGIN', status: next() })));
    daemon = fixture.start({}, 'outage');
    await daemon.waitForMsg('snapshot accepted by the WFM');
    await eventually(async () => (await committed()) !== undefined, 20_000, 'a first commit');

    feed.receiver.failFor(30_000, 500);
    const outageStarted = Date.now();
    const samples: Committed[] = [];
    let refused = false;
    while (Date.now() - outageStarted < 60_000) {
      if (!refused && Date.now() - outageStarted >= 30_000) {
        await feed.receiver.refuseConnections();
        refused = true;
      }
      step += 1;
      await feed.put([
        { username: AGENTS[step % AGENTS.length] as string, status: next() },
        { username: AGENTS[(step * 7) % AGENTS.length] as string, status: next() },
      ]);
      const c = await committed();
      if (c !== undefined) samples.push(c);
      await new Promise((r) => setTimeout(r, 1000));
    }
    // During the outage: no commit may claim a state the WFM never applied.
    expect(samples.length).toBeGreaterThan(30);
    for (const sample of samples) expect(coveredByWfm(sample)).toEqual([]);
    const metricsDuring = await daemon.get('/metrics');
    expect(metricsDuring.body).toMatch(/rta_wfm_errors_total\{reason="server-error"\} [1-9]/);
    expect(metricsDuring.body).toMatch(/rta_wfm_errors_total\{reason="network"\} [1-9]/);

    await feed.receiver.acceptConnections();
    await eventually(
      () => AGENTS.every((a) => feed.receiver.stateOf(a)?.stateCode === feed.expected.get(a)),
      30_000,
      'every newest state delivered after the outage',
    );
    await eventually(
      async () => {
        const c = await committed();
        return c !== undefined && AGENTS.every((a) => c.accepted.get(a) === feed.expected.get(a));
      },
      20_000,
      'a commit of the delivered states after the outage',
    );
    expect(regressions(feed)).toEqual([]);
    expect((await daemon.stop()).code).toBe(0);
  }, 150_000);
});
