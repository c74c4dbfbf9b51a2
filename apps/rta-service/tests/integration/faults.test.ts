import type { DaemonProcess } from '../support/daemon.js';
import { agentEvent } from '../support/events.js';
import { eventually, regressions, useFeed } from '../support/feed.js';

const AGENTS = Array.from({ length: 8 }, (_, i) => `agent.f${i}`);

const fixture = useFeed({ shards: 2 });

describe('connect-wfm-rta: bad input and a refused key', () => {
  it('counts and logs malformed records and unknown event types with shard and sequence number, and goes on', async () => {
    const { feed } = fixture;
    const daemon = await fixture.startWithAgents(AGENTS, 'faults');

    const [bad] = await feed.putRaw(['{"EventType": "STATE_CHANGE", "trunc']);
    const [unknown] = await feed.putRaw(
      [
        agentEvent({
          username: 'agent.f1',
          type: 'AGENT_PROMOTED',
          status: 'Training',
          timeMs: Date.now(),
        }),
      ],
      'agent.f1',
    );
    feed.expected.set('agent.f1', 'Training');
    feed.timeline.get('agent.f1')?.push('Training');
    await feed.put([{ username: 'agent.f2', status: 'Lunch' }]);
    await eventually(
      () =>
        feed.receiver.stateOf('agent.f2')?.stateCode === 'Lunch' &&
        feed.receiver.stateOf('agent.f1')?.stateCode === 'Training',
      20_000,
      'the good events after the bad ones delivered',
    );
    const rejected = await daemon.waitFor(
      (l) => l.kind === 'invalid-json',
      5000,
      'the rejected record log line',
    );
    expect(rejected).toMatchObject({ shardId: bad?.shardId, sequenceNumber: bad?.sequenceNumber });
    const unknownLine = await daemon.waitFor(
      (l) => l.eventType === 'AGENT_PROMOTED',
      5000,
      'the unknown event type log line',
    );
    expect(unknownLine).toMatchObject({
      shardId: unknown?.shardId,
      sequenceNumber: unknown?.sequenceNumber,
    });
    const metrics = (await daemon.get('/metrics')).body;
    expect(metrics).toMatch(/rta_records_rejected_total\{kind="invalid-json"\} 1/);
    expect(metrics).toMatch(/rta_unknown_event_types_total 1/);
    expect(regressions(feed)).toEqual([]);
  });

  it('stops with exit 78 and a clear message when the WFM refuses the key, instead of looping', async () => {
    const { feed } = fixture;
    const running = fixture.daemons[0] as DaemonProcess;
    feed.receiver.setBadKey(true);
    await feed.put([{ username: 'agent.f3', status: 'Meeting' }]);
    const { code } = await running.exited;
    expect(code).toBe(78);
    const fatal = running.lines.find((l) => l.level === 60);
    expect(String(fatal?.error)).toContain('authentication key');
    expect(String(fatal?.msg)).toContain('RTA_AUTH_KEY');
    expect(JSON.stringify(running.lines)).not.toContain(feed.receiver.authenticationKey);
    feed.receiver.setBadKey(false);
  });
});
