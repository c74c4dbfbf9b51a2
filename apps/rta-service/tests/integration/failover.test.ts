import { eventually, regressions, statusSequence, useFeed } from '../support/feed.js';

const AGENTS = Array.from({ length: 16 }, (_, i) => `agent.h${String(i).padStart(2, '0')}`);

const fixture = useFeed({ shards: 2 });

describe('connect-wfm-rta with two instances', () => {
  it('a standby takes over when the leader hangs or dies; a deposed leader stops posting; nothing lost or regressed', async () => {
    const { feed } = fixture;
    const next = statusSequence('H');
    await feed.put(AGENTS.map((username) => ({ username, type: 'LOGIN', status: next() })));
    let producing = true;
    let turn = 0;
    const producer = (async () => {
      while (producing) {
        turn += 1;
        await feed.put([{ username: AGENTS[turn % AGENTS.length] as string, status: next() }]);
        await new Promise((r) => setTimeout(r, 150));
      }
    })();
    try {
      const a = fixture.start({ RTA_INSTANCE_ID: 'instance-a' }, 'a');
      await a.waitForMsg('ready: first delivery accepted; polling');
      const b = fixture.start({ RTA_INSTANCE_ID: 'instance-b' }, 'b');
      await b.waitForMsg('standby: another instance holds the leader lease');
      const standby = await b.get('/readyz');
      expect(standby.status).toBe(200);
      expect(JSON.parse(standby.body)).toMatchObject({ role: 'standby' });

      // The leader hangs (SIGSTOP) past the lease TTL: the standby takes over.
      a.child.kill('SIGSTOP');
      await b.waitForMsg('leader lease acquired: this instance leads', 20_000);
      await b.waitForMsg('ready: first delivery accepted; polling', 20_000);
      const resumedAt = a.lines.length;
      a.child.kill('SIGCONT');
      // (Under load an instance may also give up its lease early and take it back; only the loss
      // after the resume counts here.)
      const lost = await a.waitFor(
        (l) =>
          l.msg === 'leader lease lost: stopped posting, back to standby' &&
          a.lines.indexOf(l) >= resumedAt,
        10_000,
        'the lease loss after the resume',
      );
      await new Promise((r) => setTimeout(r, 1500));
      const afterLoss = a.lines.slice(a.lines.indexOf(lost));
      expect(afterLoss.filter((l) => l.msg === 'states accepted by the WFM')).toEqual([]);
      expect(afterLoss.filter((l) => l.msg === 'committed state and checkpoints')).toEqual([]);

      // The new leader dies (kill -9): the old one, back in standby, takes over again.
      await b.kill9();
      await a.waitFor(
        (l) =>
          l.msg === 'leader lease acquired: this instance leads' && a.lines.indexOf(l) > resumedAt,
        20_000,
        'instance a leading again',
      );
      producing = false;
      await producer;
      await eventually(
        () => AGENTS.every((u) => feed.receiver.stateOf(u)?.stateCode === feed.expected.get(u)),
        30_000,
        'every newest state at the WFM',
      );
      expect((await a.stop()).code).toBe(0);
      expect(regressions(feed)).toEqual([]);
    } finally {
      // a failed step must not leave the producer writing to a stream torn down after the test
      producing = false;
      await producer.catch(() => undefined);
    }
  }, 120_000);
});
