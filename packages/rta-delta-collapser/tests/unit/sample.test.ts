import { readFileSync } from 'node:fs';
import { type AgentEventRecord, RtaDeltaCollapser } from '@connect-wfm/rta-delta-collapser';

const lines = readFileSync(
  new URL('../fixtures/agent-events-sample.jsonl', import.meta.url),
  'utf8',
)
  .trim()
  .split('\n');
// Both agents' events in one shard, in file order (as Connect wrote them).
const records: AgentEventRecord[] = lines.map((line, i) => ({
  shardId: 'shardId-000000000000',
  sequenceNumber: `4964${String(i + 1).padStart(52, '0')}`,
  data: Buffer.from(line, 'utf8'),
}));

const ANA = 'agent.alvarez';
const BEN = 'agent.bianchi';

describe('the sample agent event sequence, end to end', () => {
  it('posts each poll only what changed, and nothing for the heartbeat', () => {
    const c = new RtaDeltaCollapser();
    const polls: unknown[] = [];
    for (const rec of records) {
      const result = c.ingest([rec]);
      expect(result.rejected).toEqual([]);
      const delta = c.pendingDelta();
      polls.push(delta.map((s) => `${s.userCode}=${s.stateCode}`));
      c.markAccepted(delta);
    }
    expect(polls).toEqual([
      [`${ANA}=Available`], // LOGIN
      [`${BEN}=Break`], // STATE_CHANGE to a custom status
      [], // HEART_BEAT, nothing changed
      [`${ANA}=OnContact`], // voice contact CONNECTED
      [`${ANA}=AfterContactWork`], // contact ENDED
      [`${BEN}=LOGGED-OFF`], // LOGOUT
    ]);
  });

  it('collapses the whole file in one batch, in any order, to the same states', () => {
    const expected = [
      { userCode: ANA, stateCode: 'AfterContactWork', stateDescription: 'After contact work' },
      { userCode: BEN, stateCode: 'LOGGED-OFF', stateDescription: 'Logged out' },
    ];
    const forward = new RtaDeltaCollapser();
    expect(forward.ingest(records)).toMatchObject({ accepted: 6, stale: 0, duplicates: 0 });
    expect(forward.pendingDelta()).toEqual(expected);

    const backward = new RtaDeltaCollapser();
    expect(backward.ingest([...records].reverse())).toMatchObject({ accepted: 2, stale: 4 });
    expect(backward.snapshot()).toEqual(expected);

    const twice = new RtaDeltaCollapser();
    expect(twice.ingest([...records, ...records])).toMatchObject({ accepted: 6, duplicates: 6 });
    expect(twice.snapshot()).toEqual(expected);
  });

  it('derives channel-qualified codes and status ARNs when configured', () => {
    const withChannel = new RtaDeltaCollapser({ includeChannel: true });
    withChannel.ingest(records.slice(0, 4));
    expect(withChannel.snapshot().map((s) => s.stateCode)).toEqual(['OnContact:VOICE', 'Break']);

    const statusOnly = new RtaDeltaCollapser({ mode: 'status-only', stateCodeFrom: 'arn' });
    statusOnly.ingest(records.slice(0, 5));
    expect(statusOnly.snapshot()).toEqual([
      {
        userCode: ANA,
        stateCode: expect.stringMatching(/agent-state\/d0d0d0d0-0000-4000-8000-000000000001$/),
        stateDescription: 'Available',
      },
      {
        userCode: BEN,
        stateCode: expect.stringMatching(/agent-state\/d0d0d0d0-0000-4000-8000-000000000003$/),
        stateDescription: 'Break',
      },
    ]);
  });
});
