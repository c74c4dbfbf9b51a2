import type { DaemonProcess } from '../support/daemon.js';
import { eventually, regressions, statusSequence, useFeed } from '../support/feed.js';

const AGENTS = Array.from({ length: 40 }, (_, i) => `agent.l${String(i).padStart(2, '0')}`);

const fixture = useFeed({ shards: 2 });

async function metric(daemon: DaemonProcess, name: string): Promise<number> {
  const { body } = await daemon.get('/metrics');
  const line = body.split('\n').find((l) => l.startsWith(`${name} `));
  return Number(line?.split(' ')[1]);
}

describe('connect-wfm-rta when its own clock says the lease lapsed', () => {
  // A starved or paused process can miss its renewals although nobody takes the lease. Ending the
  // term then threw away everything read, and a process too starved to read to the tip within one
  // TTL re-read the same backlog from the same checkpoints for ever (never caught up, never posted).
  it('pauses posting, keeps its term and what it read, and resumes once the store renews the lease', async () => {
    const { feed } = fixture;
    const next = statusSequence('L');
    let written = 0;
    const round = async () => {
      await feed.put(AGENTS.map((username) => ({ username, status: next() })));
      written += AGENTS.length;
    };
    for (let i = 0; i < 5; i += 1) await round();
    const daemon = fixture.start({}, 'lapse');
    await daemon.waitForMsg('ready: first delivery accepted; polling');

    // Paused for longer than the 3 s lease TTL, with no other instance around to take it.
    daemon.child.kill('SIGSTOP');
    await round();
    await new Promise((r) => setTimeout(r, 4500));
    await round();
    const resumedAt = daemon.lines.length;
    daemon.child.kill('SIGCONT');

    await eventually(
      () => AGENTS.every((u) => feed.receiver.stateOf(u)?.stateCode === feed.expected.get(u)),
      20_000,
      'every newest state after the pause',
    );
    await daemon.waitFor(
      (l) => l.msg === 'states accepted by the WFM' && daemon.lines.indexOf(l) >= resumedAt,
      10_000,
      'a delivery after the pause',
    );
    // One term from start to end: no deposition, no second term re-reading from the checkpoints.
    expect(daemon.lines.filter((l) => String(l.msg).startsWith('leader lease lost'))).toEqual([]);
    expect(
      daemon.lines.filter((l) => l.msg === 'leader lease acquired: this instance leads'),
    ).toHaveLength(1);
    const after = daemon.lines.slice(resumedAt).map((l) => l.msg);
    expect(after).toContain(
      'leader lease not renewed in time: posting paused until the store confirms it is still ours',
    );
    expect(after).toContain('leader lease renewed after a lapse: still ours, posting resumes');
    expect(await metric(daemon, 'rta_events_read_total')).toBe(written);
    expect(await metric(daemon, 'rta_caught_up')).toBe(1);
    expect(regressions(feed)).toEqual([]);
    expect((await daemon.stop()).code).toBe(0);
  }, 60_000);
});
