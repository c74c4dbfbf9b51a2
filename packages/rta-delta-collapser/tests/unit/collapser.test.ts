import {
  type AgentEventRecord,
  type ExportedAgentState,
  type IngestResult,
  type Logger,
  type RejectedRecord,
  RtaCollapserOptionsError,
  RtaDeltaCollapser,
  type RtaDeltaCollapserOptions,
  type RtaState,
  RtaStateImportError,
} from '@connect-wfm/rta-delta-collapser';
import { jest } from '@jest/globals';
import {
  agentEvent,
  at,
  bytes,
  type EventSpec,
  record,
  SHARD_0,
  SHARD_1,
} from '../support/events.js';

const ANA = 'agent.alvarez';
const BEN = 'agent.bianchi';

function ev(spec: EventSpec): Record<string, unknown> {
  return agentEvent(spec);
}

function stateOf(collapser: RtaDeltaCollapser, userCode: string): RtaState | undefined {
  return collapser.snapshot().find((s) => s.userCode === userCode);
}

function counts(r: IngestResult) {
  return {
    accepted: r.accepted,
    duplicates: r.duplicates,
    stale: r.stale,
    changed: r.changed,
    rejected: r.rejected.length,
  };
}

describe('RtaDeltaCollapser: collapsing a batch', () => {
  it('keeps only the newest state per agent within a batch', () => {
    const c = new RtaDeltaCollapser();
    const result = c.ingest([
      record(ev({ username: ANA, status: 'Available', timestamp: at(0) }), 1),
      record(ev({ username: BEN, status: 'Break', timestamp: at(1) }), 2),
      record(ev({ username: ANA, contacts: [{ State: 'CONNECTED' }], timestamp: at(2) }), 3),
      record(ev({ username: ANA, contacts: [{ State: 'ENDED' }], timestamp: at(3) }), 4),
    ]);
    expect(counts(result)).toEqual({
      accepted: 4,
      duplicates: 0,
      stale: 0,
      changed: 2,
      rejected: 0,
    });
    expect(c.pendingDelta()).toEqual([
      { userCode: ANA, stateCode: 'AfterContactWork', stateDescription: 'After contact work' },
      { userCode: BEN, stateCode: 'Break', stateDescription: 'Break' },
    ]);
    expect(c.agentCount).toBe(2);
  });

  it('merges batches from several shards by EventTimestamp', () => {
    const c = new RtaDeltaCollapser();
    c.ingest([record(ev({ username: ANA, status: 'Lunch', timestamp: at(5) }), 10, SHARD_1)]);
    const r = c.ingest([
      record(ev({ username: ANA, status: 'Available', timestamp: at(4) }), 99, SHARD_0),
    ]);
    expect(r.stale).toBe(1);
    expect(stateOf(c, ANA)?.stateCode).toBe('Lunch');
  });
});

describe('RtaDeltaCollapser: ordering and duplicates', () => {
  it('never lets an older event overwrite a newer state, even arriving later', () => {
    const c = new RtaDeltaCollapser();
    c.ingest([record(ev({ username: ANA, eventType: 'LOGOUT', timestamp: at(10) }), 5)]);
    const late = c.ingest([
      record(ev({ username: ANA, contacts: [{ State: 'CONNECTED' }], timestamp: at(9) }), 6),
      record(ev({ username: ANA, status: 'Available', timestamp: at(1) }), 7),
    ]);
    expect(counts(late)).toEqual({ accepted: 0, duplicates: 0, stale: 2, changed: 0, rejected: 0 });
    expect(stateOf(c, ANA)?.stateCode).toBe('LOGGED-OFF');
  });

  it('drops a duplicate EventId even when it comes with another sequence number', () => {
    const c = new RtaDeltaCollapser();
    const first = ev({ username: ANA, status: 'Break', timestamp: at(1), eventId: 'dup-1' });
    c.ingest([record(first, 1)]);
    c.markAccepted(c.pendingDelta());
    const r = c.ingest([record(first, 2), record(first, 3, SHARD_1)]);
    expect(counts(r)).toEqual({ accepted: 0, duplicates: 2, stale: 0, changed: 0, rejected: 0 });
    expect(c.pendingDelta()).toEqual([]);
  });

  it('treats a record replayed at the same position as a duplicate even without an EventId', () => {
    const c = new RtaDeltaCollapser({ dedupeWindow: 0 });
    const event = ev({ username: ANA, status: 'Break', timestamp: at(1) });
    c.ingest([record(event, 1)]);
    const r = c.ingest([record(event, 1)]);
    expect(r.duplicates).toBe(1);
    expect(r.accepted).toBe(0);
  });

  it('remembers only the last dedupeWindow ids, and ordering still stops an old duplicate', () => {
    const c = new RtaDeltaCollapser({ dedupeWindow: 2 });
    const old = ev({ username: ANA, status: 'Break', timestamp: at(1), eventId: 'old' });
    c.ingest([
      record(old, 1),
      record(ev({ username: ANA, status: 'Lunch', timestamp: at(2), eventId: 'e2' }), 2),
      record(ev({ username: ANA, status: 'Available', timestamp: at(3), eventId: 'e3' }), 3),
    ]);
    const r = c.ingest([record(old, 9)]);
    // 'old' fell out of the window of 2 ids: not recognised as a duplicate, but it is stale.
    expect(counts(r)).toEqual({ accepted: 0, duplicates: 0, stale: 1, changed: 0, rejected: 0 });
    const recent = c.ingest([
      record(ev({ username: ANA, status: 'Available', timestamp: at(3), eventId: 'e3' }), 10),
    ]);
    expect(recent.duplicates).toBe(1);
    expect(stateOf(c, ANA)?.stateCode).toBe('Available');
  });

  it('breaks a timestamp tie within one shard by sequence number compared as bigint', () => {
    const c = new RtaDeltaCollapser();
    // 10^30 + 9 < 10^30 + 10, but both are the same `number`.
    const lower = '1000000000000000000000000000009';
    const higher = '1000000000000000000000000000010';
    expect(Number(lower)).toBe(Number(higher));
    c.ingest([record(ev({ username: ANA, status: 'Lunch', timestamp: at(1) }), higher)]);
    const r = c.ingest([record(ev({ username: ANA, status: 'Break', timestamp: at(1) }), lower)]);
    expect(r.stale).toBe(1);
    expect(stateOf(c, ANA)?.stateCode).toBe('Lunch');
    const r2 = c.ingest([
      record(
        ev({ username: ANA, status: 'Break', timestamp: at(1) }),
        '99999999999999999999999999999999',
      ),
    ]);
    expect(r2.accepted).toBe(1);
    expect(stateOf(c, ANA)?.stateCode).toBe('Break');
  });

  it('breaks a timestamp tie across shards by the higher shard id (the child after a reshard)', () => {
    const parentFirst = new RtaDeltaCollapser();
    const childFirst = new RtaDeltaCollapser();
    const parent = record(ev({ username: ANA, status: 'Break', timestamp: at(1) }), 900, SHARD_0);
    const child = record(ev({ username: ANA, status: 'Lunch', timestamp: at(1) }), 1, SHARD_1);
    parentFirst.ingest([parent, child]);
    childFirst.ingest([child, parent]);
    expect(stateOf(parentFirst, ANA)?.stateCode).toBe('Lunch');
    expect(stateOf(childFirst, ANA)?.stateCode).toBe('Lunch');
  });
});

describe('RtaDeltaCollapser: delta and accepted states', () => {
  it('keeps states pending after a failed POST and sends them on the next poll', () => {
    const c = new RtaDeltaCollapser();
    c.ingest([record(ev({ username: ANA, status: 'Break', timestamp: at(1) }), 1)]);
    const first = c.pendingDelta();
    expect(first).toHaveLength(1);
    // POST failed: markAccepted is not called.
    expect(c.pendingDelta()).toEqual(first);
  });

  it('no longer returns accepted states, and does not re-send an unchanged state', () => {
    const c = new RtaDeltaCollapser();
    c.ingest([
      record(ev({ username: ANA, status: 'Break', timestamp: at(1) }), 1),
      record(ev({ username: BEN, status: 'Available', timestamp: at(1) }), 2),
    ]);
    c.markAccepted(c.pendingDelta());
    expect(c.pendingDelta()).toEqual([]);
    // A new event with the same derived state (other event type, other contact id) is no change.
    const r = c.ingest([
      record(
        ev({ username: ANA, status: 'Break', eventType: 'STATE_CHANGE', timestamp: at(2) }),
        3,
      ),
    ]);
    expect(r.accepted).toBe(1);
    expect(r.changed).toBe(0);
    expect(c.pendingDelta()).toEqual([]);
  });

  it('sends nothing for a HEART_BEAT that changes nothing', () => {
    const c = new RtaDeltaCollapser();
    c.ingest([record(ev({ username: BEN, status: 'Break', timestamp: at(2) }), 1)]);
    c.markAccepted(c.pendingDelta());
    const r = c.ingest([
      record(ev({ username: BEN, status: 'Break', eventType: 'HEART_BEAT', timestamp: at(4) }), 2),
    ]);
    expect(counts(r)).toEqual({ accepted: 1, duplicates: 0, stale: 0, changed: 0, rejected: 0 });
    expect(c.pendingDelta()).toEqual([]);
  });

  describe('after a LOGOUT', () => {
    const LOGGED_OFF = { userCode: BEN, stateCode: 'LOGGED-OFF', stateDescription: 'Logged out' };
    /** An event of BEN's with `status`, at minute `minute`, as record `seq` of a shard. */
    const ben = (eventType: string, status: string, minute: number, seq: number, shard = SHARD_0) =>
      record(ev({ username: BEN, eventType, status, timestamp: at(minute) }), seq, shard);
    const logout = (c: RtaDeltaCollapser) => {
      c.ingest([ben('LOGOUT', 'Break', 1, 1)]);
      c.markAccepted(c.pendingDelta());
      expect(stateOf(c, BEN)).toEqual(LOGGED_OFF);
    };

    it('keeps the agent logged out through HEART_BEATs and STATE_CHANGEs carrying the last status', () => {
      const c = new RtaDeltaCollapser();
      logout(c);
      const r = c.ingest([
        ben('HEART_BEAT', 'Break', 3, 2),
        ben('STATE_CHANGE', 'Available', 4, 3),
        ben('HEART_BEAT', 'Available', 6, 4),
      ]);
      expect(counts(r)).toEqual({ accepted: 3, duplicates: 0, stale: 0, changed: 0, rejected: 0 });
      expect(c.pendingDelta()).toEqual([]);
      expect(stateOf(c, BEN)).toEqual(LOGGED_OFF);
      // they still move the position: an older event arriving late is stale
      const late = c.ingest([ben('LOGIN', 'Available', 5, 5)]);
      expect(late.stale).toBe(1);
    });

    it('lets a LOGIN log the agent back in, and derives later events as usual', () => {
      const c = new RtaDeltaCollapser();
      logout(c);
      c.ingest([ben('HEART_BEAT', 'Break', 2, 2), ben('LOGIN', 'Break', 3, 3)]);
      expect(c.pendingDelta()).toEqual([
        { userCode: BEN, stateCode: 'Break', stateDescription: 'Break' },
      ]);
      c.ingest([ben('HEART_BEAT', 'Available', 5, 4)]);
      expect(stateOf(c, BEN)?.stateCode).toBe('Available');
    });

    it('shows the agent logged out in a cold-start snapshot despite an hour of heartbeats', () => {
      const c = new RtaDeltaCollapser();
      const events = [
        ev({ username: BEN, eventType: 'LOGIN', status: 'Available', timestamp: at(0) }),
        ev({ username: BEN, eventType: 'STATE_CHANGE', status: 'Lunch', timestamp: at(30) }),
        ev({ username: BEN, eventType: 'LOGOUT', status: 'Lunch', timestamp: at(31) }),
        ...Array.from({ length: 30 }, (_, i) =>
          ev({
            username: BEN,
            eventType: 'HEART_BEAT',
            status: 'Lunch',
            timestamp: at(33 + 2 * i),
          }),
        ),
      ];
      c.ingest(events.map((e, i) => record(e, i + 1)));
      expect(c.snapshot()).toEqual([LOGGED_OFF]);
    });

    it('keeps waiting for the LOGIN across exportState / importState', () => {
      const c = new RtaDeltaCollapser();
      logout(c);
      c.ingest([ben('HEART_BEAT', 'Break', 3, 2)]);
      const exported = c.exportState();
      expect(exported.agents[0]).toMatchObject({
        current: { stateCode: 'LOGGED-OFF' },
        derived: { stateCode: 'Break', stateDescription: 'Break' },
        lastLogout: { eventTimestamp: at(1) },
      });
      expect(exported.agents[0]?.lastLogin).toBeUndefined();
      const restored = new RtaDeltaCollapser();
      restored.importState(JSON.parse(JSON.stringify(exported)));
      expect(restored.exportState()).toEqual(exported);
      restored.ingest([ben('HEART_BEAT', 'Available', 5, 3)]);
      expect(restored.pendingDelta()).toEqual([]);
      // a LOGIN older than the newest heartbeat but after the LOGOUT, arriving late (another
      // shard), logs the agent in with the newest event's state
      restored.ingest([ben('LOGIN', 'Available', 4, 1, SHARD_1)]);
      expect(stateOf(restored, BEN)).toEqual({
        userCode: BEN,
        stateCode: 'Available',
        stateDescription: 'Available',
      });

      // a file written before these fields existed imports as not waiting
      const {
        derived: _d,
        lastLogout: _l,
        ...old
      } = exported.agents[0] as NonNullable<(typeof exported.agents)[0]>;
      const fresh = new RtaDeltaCollapser();
      fresh.importState({ version: 1, agents: [old] });
      fresh.ingest([ben('HEART_BEAT', 'Available', 5, 3)]);
      expect(stateOf(fresh, BEN)?.stateCode).toBe('Available');
    });

    it('applies a LOGOUT that arrives after a newer heartbeat (order does not matter)', () => {
      const c = new RtaDeltaCollapser();
      c.ingest([ben('LOGIN', 'Available', 0, 1), ben('HEART_BEAT', 'Available', 5, 1, SHARD_1)]);
      expect(stateOf(c, BEN)?.stateCode).toBe('Available');
      const r = c.ingest([ben('LOGOUT', 'Available', 3, 2)]);
      expect(counts(r)).toEqual({ accepted: 0, duplicates: 0, stale: 1, changed: 1, rejected: 0 });
      expect(stateOf(c, BEN)).toEqual(LOGGED_OFF);
    });

    it('ignores a LOGIN rejected for its state code in whatever order it arrives', () => {
      const long = 'x'.repeat(310);
      const events = [
        ben('LOGOUT', 'Break', 0, 1),
        record(ev({ username: BEN, eventType: 'LOGIN', status: long, timestamp: at(1) }), 2),
        ben('STATE_CHANGE', 'Available', 2, 3),
      ];
      for (const order of [
        [0, 1, 2],
        [0, 2, 1],
        [2, 1, 0],
      ]) {
        const c = new RtaDeltaCollapser();
        const r = c.ingest(order.map((i) => events[i] as AgentEventRecord));
        expect({ order, state: stateOf(c, BEN)?.stateCode, rejected: r.rejected.length }).toEqual({
          order,
          state: 'LOGGED-OFF',
          rejected: 1,
        });
        expect(r.rejected[0]?.kind).toBe('invalid-state-code');
      }
    });

    it('counts a replayed LOGOUT read with a state file from before LOGOUT positions were kept', () => {
      const c = new RtaDeltaCollapser();
      const logoutRecord = ben('LOGOUT', 'Break', 1, 1);
      c.ingest([logoutRecord]);
      const { lastLogout: _, ...v1Agent } = c.exportState().agents[0] as ExportedAgentState;
      const upgraded = new RtaDeltaCollapser();
      upgraded.importState({ version: 1, agents: [v1Agent] });
      // the reader resumes at the checkpoint: the LOGOUT comes again, then heartbeats
      const replay = upgraded.ingest([logoutRecord]);
      expect(replay.duplicates).toBe(1);
      upgraded.ingest([ben('HEART_BEAT', 'Break', 3, 2)]);
      expect(stateOf(upgraded, BEN)).toEqual(LOGGED_OFF);
    });

    it('sets the current state from the imported positions under the importing options', () => {
      const c = new RtaDeltaCollapser();
      logout(c);
      c.ingest([ben('HEART_BEAT', 'Break', 3, 2)]);
      const exported = c.exportState();
      // a hand-edited file whose current state disagrees with its LOGOUT position
      const edited = {
        ...exported,
        agents: [
          { ...exported.agents[0], current: { stateCode: 'Break', stateDescription: 'Break' } },
        ],
      };
      const strict = new RtaDeltaCollapser();
      strict.importState(edited);
      expect(stateOf(strict, BEN)).toEqual(LOGGED_OFF);
      // imported by a collapser that derives every event on its own: the newest event's state
      const literal = new RtaDeltaCollapser({ stayLoggedOutUntilLogin: false });
      literal.importState(exported);
      expect(literal.pendingDelta()).toEqual([
        { userCode: BEN, stateCode: 'Break', stateDescription: 'Break' },
      ]);
      expect(literal.exportState().agents[0]).not.toHaveProperty('derived');
    });

    it('derives every event from its own snapshot with stayLoggedOutUntilLogin: false', () => {
      const c = new RtaDeltaCollapser({ stayLoggedOutUntilLogin: false });
      logout(c);
      expect(c.exportState().agents[0]?.lastLogout).toBeUndefined();
      c.ingest([ben('HEART_BEAT', 'Offline', 3, 2)]);
      expect(c.pendingDelta()).toEqual([]);
      c.ingest([ben('HEART_BEAT', 'Available', 5, 3)]);
      expect(c.pendingDelta()).toEqual([
        { userCode: BEN, stateCode: 'Available', stateDescription: 'Available' },
      ]);
    });

    it('rejects a stayLoggedOutUntilLogin that is not a boolean', () => {
      expect(
        () =>
          new RtaDeltaCollapser({
            stayLoggedOutUntilLogin: 'yes',
          } as unknown as RtaDeltaCollapserOptions),
      ).toThrow(RtaCollapserOptionsError);
    });
  });

  it('sends a state that changed and changed back before the poll only if it differs from accepted', () => {
    const c = new RtaDeltaCollapser();
    c.ingest([record(ev({ username: ANA, status: 'Available', timestamp: at(1) }), 1)]);
    c.markAccepted(c.pendingDelta());
    c.ingest([
      record(ev({ username: ANA, status: 'Break', timestamp: at(2) }), 2),
      record(ev({ username: ANA, status: 'Available', timestamp: at(3) }), 3),
    ]);
    expect(c.pendingDelta()).toEqual([]);
  });

  it('keeps an agent pending when its state changed again while the POST was in flight', () => {
    const c = new RtaDeltaCollapser();
    c.ingest([record(ev({ username: ANA, status: 'Break', timestamp: at(1) }), 1)]);
    const delta = c.pendingDelta();
    c.ingest([record(ev({ username: ANA, status: 'Lunch', timestamp: at(2) }), 2)]);
    c.markAccepted(delta);
    expect(c.pendingDelta()).toEqual([
      { userCode: ANA, stateCode: 'Lunch', stateDescription: 'Lunch' },
    ]);
  });

  it('builds a snapshot of every known agent, accepted or not', () => {
    const c = new RtaDeltaCollapser();
    c.ingest([
      record(ev({ username: BEN, status: 'Break', timestamp: at(1) }), 1),
      record(ev({ username: ANA, eventType: 'LOGOUT', status: 'Offline', timestamp: at(1) }), 2),
    ]);
    c.markAccepted(c.pendingDelta());
    c.ingest([record(ev({ username: 'agent.chen', timestamp: at(2) }), 3)]);
    expect(c.snapshot()).toEqual([
      { userCode: ANA, stateCode: 'LOGGED-OFF', stateDescription: 'Logged out' },
      { userCode: BEN, stateCode: 'Break', stateDescription: 'Break' },
      { userCode: 'agent.chen', stateCode: 'Available', stateDescription: 'Available' },
    ]);
    c.markAccepted(c.snapshot());
    expect(c.pendingDelta()).toEqual([]);
  });

  it('returns copies: changing a returned state does not change the collapser', () => {
    const c = new RtaDeltaCollapser();
    c.ingest([record(ev({ username: ANA, status: 'Break', timestamp: at(1) }), 1)]);
    const [state] = c.pendingDelta();
    if (state) state.stateCode = 'tampered';
    expect(c.snapshot()[0]?.stateCode).toBe('Break');
  });
});

describe('RtaDeltaCollapser: rejected records', () => {
  it('reports bad records, calls onReject and the logger, and processes the rest', () => {
    const seen: RejectedRecord[] = [];
    const logger: Logger = { debug: jest.fn(), info: jest.fn(), warn: jest.fn(), error: jest.fn() };
    const c = new RtaDeltaCollapser({ onReject: (r) => seen.push(r), logger });
    const noUser = ev({ username: ANA, eventId: 'e-nouser', timestamp: at(1) });
    delete (noUser.CurrentAgentSnapshot as { Configuration: Record<string, unknown> }).Configuration
      .Username;
    const r = c.ingest([
      { shardId: SHARD_0, sequenceNumber: '1', data: bytes('{"EventType":') },
      record(noUser, '2'),
      record(ev({ username: BEN, status: 'Break', timestamp: at(1) }), '3'),
    ]);
    expect(r.accepted).toBe(1);
    expect(r.rejected).toEqual([
      expect.objectContaining({ shardId: SHARD_0, sequenceNumber: '1', kind: 'invalid-json' }),
      expect.objectContaining({
        sequenceNumber: '2',
        kind: 'missing-username',
        eventId: 'e-nouser',
      }),
    ]);
    expect(seen).toEqual(r.rejected);
    expect(logger.warn).toHaveBeenCalledTimes(2);
    expect(c.snapshot().map((s) => s.userCode)).toEqual([BEN]);
  });

  it('logs and reports a record that is not JSON without any of its content', () => {
    const lines: string[] = [];
    const keep = (message: string, ...meta: unknown[]) => {
      lines.push(`${message} ${JSON.stringify(meta)}`);
    };
    const c = new RtaDeltaCollapser({
      logger: { debug: keep, info: keep, warn: keep, error: keep },
    });
    const text = JSON.stringify(ev({ username: ANA, timestamp: at(1) })).replace(
      '"LastName":"Alvarez"',
      '"LastName":Alvarez-PII',
    );
    const r = c.ingest([{ shardId: SHARD_0, sequenceNumber: '1', data: bytes(text) }]);
    expect(r.rejected).toEqual([expect.objectContaining({ kind: 'invalid-json' })]);
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toMatch(/Alvarez|PII/);
    expect(r.rejected[0]?.reason).not.toMatch(/Alvarez|PII/);
  });

  it('rejects records with null Data, no SequenceNumber or no sequence number, never throwing', () => {
    const c = new RtaDeltaCollapser();
    const good = bytes(ev({ username: BEN, timestamp: at(1) }));
    const batch = c.ingestShardBatch({
      shardId: SHARD_0,
      records: [
        { SequenceNumber: '1', Data: null as unknown as Uint8Array },
        { Data: good },
        null as never,
        { SequenceNumber: '4', Data: good },
      ],
    });
    expect(batch.rejected.map((x) => [x.sequenceNumber, x.kind])).toEqual([
      ['1', 'missing-data'],
      ['', 'invalid-sequence-number'],
      ['', 'missing-data'],
    ]);
    expect(batch.accepted).toBe(1);
    const direct = c.ingest([
      { shardId: SHARD_1, sequenceNumber: undefined as unknown as string, data: good },
      { shardId: SHARD_1, sequenceNumber: '2', data: null as unknown as Uint8Array },
      undefined as never,
    ]);
    expect(direct.rejected.map((x) => x.kind)).toEqual([
      'invalid-sequence-number',
      'missing-data',
      'missing-data',
    ]);
  });

  it('rejects an event whose username is only white space as a bad event', () => {
    const c = new RtaDeltaCollapser();
    const r = c.ingest([record(ev({ username: '   ', timestamp: at(1) }), 1)]);
    expect(r.rejected).toEqual([expect.objectContaining({ kind: 'missing-username' })]);
    expect(c.agentCount).toBe(0);
  });

  it('survives an onReject callback that throws', () => {
    const logger: Logger = { debug: jest.fn(), info: jest.fn(), warn: jest.fn(), error: jest.fn() };
    const c = new RtaDeltaCollapser({
      logger,
      onReject: () => {
        throw new Error('callback bug');
      },
    });
    const r = c.ingest([
      { shardId: SHARD_0, sequenceNumber: '1', data: bytes('nope') },
      record(ev({ username: BEN, timestamp: at(1) }), '2'),
    ]);
    expect(r.rejected).toHaveLength(1);
    expect(r.accepted).toBe(1);
    expect(logger.error).toHaveBeenCalledTimes(1);
  });

  it('rejects an event whose derived state code is longer than the WFM accepts (300)', () => {
    const c = new RtaDeltaCollapser();
    const r = c.ingest([
      record(ev({ username: ANA, status: 'x'.repeat(301), eventId: 'long', timestamp: at(1) }), 1),
    ]);
    expect(r.rejected).toEqual([
      expect.objectContaining({ kind: 'invalid-state-code', eventId: 'long' }),
    ]);
    expect(c.agentCount).toBe(0);
  });
});

describe('RtaDeltaCollapser: Kinesis shard batches', () => {
  it('ingests SDK-shaped records of one or several shard batches', () => {
    const c = new RtaDeltaCollapser();
    const sdkRecord = (event: unknown, seq: string) => ({
      Data: bytes(event),
      SequenceNumber: seq,
      PartitionKey: 'arn:agent',
      ApproximateArrivalTimestamp: new Date(),
    });
    const r = c.ingestShardBatch([
      {
        shardId: SHARD_0,
        records: [sdkRecord(ev({ username: ANA, status: 'Break', timestamp: at(1) }), '11')],
      },
      {
        shardId: SHARD_1,
        records: [
          sdkRecord(ev({ username: ANA, status: 'Lunch', timestamp: at(2) }), '5'),
          { SequenceNumber: '6', Data: undefined },
        ],
      },
    ]);
    expect(r.accepted).toBe(2);
    expect(r.rejected).toEqual([
      {
        shardId: SHARD_1,
        sequenceNumber: '6',
        kind: 'missing-data',
        reason: 'Kinesis record has no data',
      },
    ]);
    expect(stateOf(c, ANA)?.stateCode).toBe('Lunch');
    const single = c.ingestShardBatch({
      shardId: SHARD_1,
      records: [sdkRecord(ev({ username: BEN, timestamp: at(3) }), '7')],
    });
    expect(single.accepted).toBe(1);
  });
});

describe('RtaDeltaCollapser: options', () => {
  it('rejects invalid options listing every problem', () => {
    const bad = {
      dedupeWindow: -1,
      logger: {},
      mode: 'x',
      unknown: true,
    } as unknown as RtaDeltaCollapserOptions;
    let error: unknown;
    try {
      new RtaDeltaCollapser(bad);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(RtaCollapserOptionsError);
    const problems = (error as RtaCollapserOptionsError).problems;
    expect(problems).toHaveLength(4);
    expect(problems.map((p) => `${p.path}: ${p.message}`).join('\n')).toMatch(/dedupeWindow/);
    expect(problems.map((p) => `${p.path}: ${p.message}`).join('\n')).toMatch(/logger/);
  });

  it('passes the derivation options through (channel suffix, logged-out code)', () => {
    const c = new RtaDeltaCollapser({ includeChannel: true, loggedOut: { stateCode: 'OFF' } });
    c.ingest([
      record(
        ev({
          username: ANA,
          contacts: [{ State: 'CONNECTED', Channel: 'CHAT' }],
          timestamp: at(1),
        }),
        1,
      ),
      record(ev({ username: BEN, eventType: 'LOGOUT', timestamp: at(1) }), 2),
    ]);
    expect(c.snapshot().map((s) => s.stateCode)).toEqual(['OnContact:CHAT', 'OFF']);
  });
});

describe('RtaDeltaCollapser: export and import', () => {
  function populated(): RtaDeltaCollapser {
    const c = new RtaDeltaCollapser();
    c.ingest([
      record(ev({ username: ANA, status: 'Break', timestamp: at(1) }), 1),
      record(ev({ username: BEN, status: 'Available', timestamp: at(1, 250) }), 2, SHARD_1),
    ]);
    c.markAccepted(c.pendingDelta());
    c.ingest([record(ev({ username: ANA, status: 'Lunch', timestamp: at(2) }), 3)]);
    c.markAccepted([
      { userCode: 'agent.dunn', stateCode: 'LOGGED-OFF', stateDescription: 'Logged out' },
    ]);
    return c;
  }

  it('round-trips through JSON with accepted states, pending states and positions', () => {
    const original = populated();
    const exported = original.exportState();
    expect(exported).toEqual({
      version: 2,
      agents: [
        {
          userCode: ANA,
          current: { stateCode: 'Lunch', stateDescription: 'Lunch' },
          accepted: { stateCode: 'Break', stateDescription: 'Break' },
          position: {
            eventTimestamp: at(2),
            shardId: SHARD_0,
            sequenceNumber: record({}, 3).sequenceNumber,
          },
        },
        {
          userCode: BEN,
          current: { stateCode: 'Available', stateDescription: 'Available' },
          accepted: { stateCode: 'Available', stateDescription: 'Available' },
          position: {
            eventTimestamp: at(1, 250),
            shardId: SHARD_1,
            sequenceNumber: record({}, 2).sequenceNumber,
          },
        },
        {
          userCode: 'agent.dunn',
          current: { stateCode: 'LOGGED-OFF', stateDescription: 'Logged out' },
          accepted: { stateCode: 'LOGGED-OFF', stateDescription: 'Logged out' },
          position: null,
        },
      ],
    });
    const restored = new RtaDeltaCollapser();
    restored.importState(JSON.parse(JSON.stringify(exported)));
    expect(restored.exportState()).toEqual(exported);
    expect(restored.snapshot()).toEqual(original.snapshot());
    expect(restored.pendingDelta()).toEqual(original.pendingDelta());
    expect(restored.pendingDelta()).toEqual([
      { userCode: ANA, stateCode: 'Lunch', stateDescription: 'Lunch' },
    ]);
  });

  it('keeps ordering across a restart: replayed and older events do not overwrite', () => {
    const restored = new RtaDeltaCollapser();
    restored.importState(populated().exportState());
    const r = restored.ingest([
      record(ev({ username: ANA, status: 'Lunch', timestamp: at(2) }), 3), // replay of the newest
      record(ev({ username: ANA, status: 'Break', timestamp: at(1) }), 1), // older
      record(ev({ username: 'agent.dunn', status: 'Available', timestamp: at(0) }), 4),
    ]);
    expect(counts(r)).toEqual({ accepted: 1, duplicates: 1, stale: 1, changed: 1, rejected: 0 });
    expect(stateOf(restored, ANA)?.stateCode).toBe('Lunch');
    expect(stateOf(restored, 'agent.dunn')?.stateCode).toBe('Available');
  });

  it('refuses a state of another version or shape, and stays unchanged', () => {
    const c = populated();
    const before = c.exportState();
    expect(() => c.importState({ version: 3, agents: [] })).toThrow(RtaStateImportError);
    expect(() => c.importState({ version: 1, agents: [{ userCode: '' }] })).toThrow(/userCode/);
    const dup = { version: 1, agents: [before.agents[0], before.agents[0]] };
    expect(() => c.importState(dup)).toThrow(/duplicate userCode agent\.alvarez/);
    expect(c.exportState()).toEqual(before);
  });
});
