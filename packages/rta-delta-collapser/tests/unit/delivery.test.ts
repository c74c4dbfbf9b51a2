import {
  RtaDeliveryStateError,
  RtaDeltaCollapser,
  type ShardBatchLike,
} from '@connect-wfm/rta-delta-collapser';
import { agentEvent, at, bytes, SHARD_0, SHARD_1 } from '../support/events.js';

const ANA = 'agent.alvarez';
const BEN = 'agent.bianchi';

/** A batch exactly as @connect-wfm/kinesis-shard-reader yields it. */
function readerBatch(
  shardId: string,
  records: { seq: string; event: unknown }[],
  extra: { shardEnded?: boolean; lastSequenceNumber?: string | null } = {},
): ShardBatchLike {
  return {
    shardId,
    records: records.map((r) => ({
      sequenceNumber: r.seq,
      partitionKey: 'pk',
      data: bytes(r.event),
      approximateArrivalTimestamp: new Date(0),
    })),
    lastSequenceNumber: extra.lastSequenceNumber ?? records.at(-1)?.seq ?? null,
    shardEnded: extra.shardEnded ?? false,
  };
}

describe('ingestShardBatch with the reader batches', () => {
  it('accepts records with sequenceNumber/data as the reader yields them', () => {
    const c = new RtaDeltaCollapser();
    const r = c.ingestShardBatch(
      readerBatch(SHARD_0, [
        { seq: '101', event: agentEvent({ username: ANA, status: 'Break', timestamp: at(1) }) },
        { seq: '102', event: agentEvent({ username: BEN, status: 'Lunch', timestamp: at(2) }) },
      ]),
    );
    expect(r.rejected).toEqual([]);
    expect(r.accepted).toBe(2);
    expect(c.pendingDelta().map((s) => [s.userCode, s.stateCode])).toEqual([
      [ANA, 'Break'],
      [BEN, 'Lunch'],
    ]);
  });

  it('reports a reader record without data as missing-data with its sequence number', () => {
    const c = new RtaDeltaCollapser();
    const r = c.ingestShardBatch({
      shardId: SHARD_1,
      records: [{ sequenceNumber: '7' }],
    });
    expect(r.rejected.map((x) => [x.shardId, x.sequenceNumber, x.kind])).toEqual([
      [SHARD_1, '7', 'missing-data'],
    ]);
  });

  it('tracks per shard the last sequence number ingested, bad records and SHARD_END included', () => {
    const c = new RtaDeltaCollapser();
    c.ingestShardBatch([
      readerBatch(SHARD_0, [
        { seq: '9', event: agentEvent({ username: ANA, timestamp: at(1) }) },
        { seq: '10', event: 'not json' },
      ]),
      readerBatch(SHARD_1, [], { shardEnded: true, lastSequenceNumber: '55' }),
    ]);
    // An older batch never moves a position back.
    c.ingestShardBatch(
      readerBatch(SHARD_0, [{ seq: '8', event: agentEvent({ username: BEN, timestamp: at(0) }) }]),
    );
    expect(c.shardPositions()).toEqual([
      { shardId: SHARD_0, lastSequenceNumber: '10', shardEnded: false },
      { shardId: SHARD_1, lastSequenceNumber: '55', shardEnded: true },
    ]);
  });
});

describe('unknown event types', () => {
  it('applies an event of an unknown type and lists it with shard and sequence number', () => {
    const c = new RtaDeltaCollapser();
    const r = c.ingestShardBatch(
      readerBatch(SHARD_0, [
        {
          seq: '5',
          event: agentEvent({
            username: ANA,
            eventType: 'AGENT_TELEPORTED',
            eventId: 'ev-5',
            status: 'Break',
            timestamp: at(1),
          }),
        },
        {
          seq: '6',
          event: agentEvent({ username: BEN, eventType: 'HEART_BEAT', timestamp: at(1) }),
        },
      ]),
    );
    expect(r.unknownEventTypes).toEqual([
      { shardId: SHARD_0, sequenceNumber: '5', eventId: 'ev-5', eventType: 'AGENT_TELEPORTED' },
    ]);
    expect(r.accepted).toBe(2);
  });
});

describe('beginDelivery / completeDelivery: the state to commit is taken before the POST', () => {
  it('commits the state as it was when the delta was taken, with the delta counted as accepted', () => {
    const c = new RtaDeltaCollapser();
    c.ingestShardBatch(
      readerBatch(SHARD_0, [
        { seq: '1', event: agentEvent({ username: ANA, status: 'Aux12', timestamp: at(1) }) },
      ]),
    );
    const delivery = c.beginDelivery();
    expect(delivery.kind).toBe('delta');
    expect(delivery.states.map((s) => s.stateCode)).toEqual(['Aux12']);

    // Read while the POST is in flight: not in the state to commit, not covered by its positions.
    c.ingestShardBatch(
      readerBatch(SHARD_0, [
        { seq: '2', event: agentEvent({ username: ANA, status: 'Aux13', timestamp: at(2) }) },
      ]),
    );
    c.completeDelivery(delivery);

    expect(delivery.positions).toEqual([
      { shardId: SHARD_0, lastSequenceNumber: '1', shardEnded: false },
    ]);
    const committed = delivery.state?.agents.find((a) => a.userCode === ANA);
    expect(committed?.current.stateCode).toBe('Aux12');
    expect(committed?.accepted?.stateCode).toBe('Aux12');
    // The newer state is still pending in memory.
    expect(c.pendingDelta().map((s) => s.stateCode)).toEqual(['Aux13']);
  });

  it('never sends an older state after a crash: restoring the committed state and replaying from its positions', () => {
    // Run 1: Aux12 delivered and committed; Aux13 read during the POST; Aux14 delivered later
    // but the process is killed before the next commit.
    const events = [
      { seq: '1', event: agentEvent({ username: ANA, status: 'Aux12', timestamp: at(1) }) },
      { seq: '2', event: agentEvent({ username: ANA, status: 'Aux13', timestamp: at(2) }) },
      { seq: '3', event: agentEvent({ username: ANA, status: 'Aux14', timestamp: at(3) }) },
    ];
    const wfm: string[] = [];
    const run1 = new RtaDeltaCollapser();
    run1.ingestShardBatch(readerBatch(SHARD_0, [events[0] as (typeof events)[0]]));
    const d1 = run1.beginDelivery();
    run1.ingestShardBatch(readerBatch(SHARD_0, [events[1] as (typeof events)[0]]));
    wfm.push(...d1.states.map((s) => s.stateCode));
    run1.completeDelivery(d1);
    const commit = { state: d1.state, positions: d1.positions };
    run1.ingestShardBatch(readerBatch(SHARD_0, [events[2] as (typeof events)[0]]));
    const d2 = run1.beginDelivery({ exportState: false });
    wfm.push(...d2.states.map((s) => s.stateCode));
    run1.completeDelivery(d2);
    expect(wfm).toEqual(['Aux12', 'Aux14']);

    // kill -9. Run 2: import the commit, replay everything after its checkpoint to the tip, post.
    const run2 = new RtaDeltaCollapser();
    run2.importState(commit.state);
    expect(run2.pendingDelta()).toEqual([]);
    const after = BigInt(commit.positions[0]?.lastSequenceNumber ?? '0');
    run2.ingestShardBatch(
      readerBatch(
        SHARD_0,
        events.filter((e) => BigInt(e.seq) > after),
      ),
    );
    const d3 = run2.beginDelivery();
    wfm.push(...d3.states.map((s) => s.stateCode));
    run2.completeDelivery(d3);
    expect(wfm).toEqual(['Aux12', 'Aux14', 'Aux14']);
  });

  it('a snapshot delivery carries every agent and counts all of them as accepted', () => {
    const c = new RtaDeltaCollapser();
    c.ingestShardBatch(
      readerBatch(SHARD_0, [
        { seq: '1', event: agentEvent({ username: ANA, status: 'Break', timestamp: at(1) }) },
        { seq: '2', event: agentEvent({ username: BEN, status: 'Lunch', timestamp: at(1) }) },
      ]),
    );
    c.completeDelivery(c.beginDelivery({ exportState: false }));
    const snap = c.beginDelivery({ snapshot: true });
    expect(snap.kind).toBe('snapshot');
    expect(snap.states.map((s) => s.userCode)).toEqual([ANA, BEN]);
    expect(snap.state?.agents.every((a) => a.accepted?.stateCode === a.current.stateCode)).toBe(
      true,
    );
    c.completeDelivery(snap);
    expect(c.pendingDelta()).toEqual([]);
  });

  it('an abandoned delivery marks nothing: the next one carries the newest state', () => {
    const c = new RtaDeltaCollapser();
    c.ingestShardBatch(
      readerBatch(SHARD_0, [
        { seq: '1', event: agentEvent({ username: ANA, status: 'Break', timestamp: at(1) }) },
      ]),
    );
    const failed = c.beginDelivery();
    c.ingestShardBatch(
      readerBatch(SHARD_0, [
        { seq: '2', event: agentEvent({ username: ANA, status: 'Lunch', timestamp: at(2) }) },
      ]),
    );
    c.abandonDelivery(failed);
    const next = c.beginDelivery();
    expect(next.states.map((s) => s.stateCode)).toEqual(['Lunch']);
    expect(next.positions[0]?.lastSequenceNumber).toBe('2');
  });

  it('allows one delivery at a time and only completes the one in flight', () => {
    const c = new RtaDeltaCollapser();
    const first = c.beginDelivery({ exportState: false });
    expect(() => c.beginDelivery()).toThrow(RtaDeliveryStateError);
    c.completeDelivery(first);
    expect(() => c.completeDelivery(first)).toThrow(RtaDeliveryStateError);
    expect(c.deliveryInFlight).toBeUndefined();
  });
});
