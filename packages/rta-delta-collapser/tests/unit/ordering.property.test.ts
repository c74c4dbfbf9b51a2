import {
  type AgentEventRecord,
  deriveState,
  parseAgentEvent,
  RtaDeltaCollapser,
  type RtaState,
} from '@connect-wfm/rta-delta-collapser';
import fc from 'fast-check';
import { agentEvent, at, record } from '../support/events.js';

const SHARDS = ['shardId-000000000000', 'shardId-000000000001', 'shardId-000000000002'];

const contactArb = fc.record({
  State: fc.constantFrom(
    'CONNECTED',
    'CONNECTED_ONHOLD',
    'CONNECTING',
    'INCOMING',
    'PENDING',
    'ENDED',
    'MISSED',
    'ERROR',
    'REJECTED',
    'PAUSED',
  ),
  Channel: fc.constantFrom('VOICE', 'CHAT', 'TASK'),
});

function eventArb(maxOffset: number) {
  return fc.record({
    eventType: fc.constantFrom('LOGIN', 'LOGOUT', 'STATE_CHANGE', 'HEART_BEAT'),
    status: fc.constantFrom('Available', 'Break', 'Lunch', 'Offline', 'Training'),
    contacts: fc.array(contactArb, { maxLength: 3 }),
    shard: fc.integer({ min: 0, max: SHARDS.length - 1 }),
    offsetMs: fc.integer({ min: 0, max: maxOffset }),
  });
}

type EventGen = fc.Arbitrary<{
  eventType: string;
  status: string;
  contacts: { State: string; Channel: string }[];
  shard: number;
  offsetMs: number;
}>;

interface GeneratedEvent {
  userCode: string;
  eventType: string;
  timeMs: number;
  shardId: string;
  sequenceNumber: string;
  state: RtaState;
  record: AgentEventRecord;
}

/** Agents with their events, distinct timestamps per agent or not, then records in shard order. */
function scenarioArb(events: EventGen, distinctTimestamps: boolean) {
  const perAgent = distinctTimestamps
    ? fc.uniqueArray(events, { selector: (e) => e.offsetMs, minLength: 1, maxLength: 10 })
    : fc.array(events, { minLength: 1, maxLength: 10 });
  return fc
    .uniqueArray(fc.constantFrom('ana', 'ben', 'chen', 'dunn', 'eko'), {
      minLength: 1,
      maxLength: 4,
    })
    .chain((users) => fc.tuple(...users.map((u) => fc.tuple(fc.constant(u), perAgent))))
    .map((agents) => {
      const nextSeq = SHARDS.map(() => 0);
      const generated: GeneratedEvent[] = [];
      for (const [userCode, specs] of agents) {
        for (const spec of specs) {
          const timestamp = at(0, spec.offsetMs);
          const event = agentEvent({
            username: userCode,
            eventType: spec.eventType,
            status: spec.status,
            contacts: spec.contacts,
            timestamp,
          });
          const parsed = parseAgentEvent(Buffer.from(JSON.stringify(event)), {
            shardId: 's',
            sequenceNumber: '1',
          });
          if (!parsed.ok) throw new Error(parsed.rejection.reason);
          const shardId = SHARDS[spec.shard] ?? 'shardId-000000000000';
          nextSeq[spec.shard] = (nextSeq[spec.shard] ?? 0) + 1;
          const rec = record(event, nextSeq[spec.shard] ?? 0, shardId);
          generated.push({
            userCode,
            eventType: spec.eventType,
            timeMs: Date.parse(timestamp),
            shardId,
            sequenceNumber: rec.sequenceNumber,
            state: deriveState(parsed.event),
            record: rec,
          });
        }
      }
      return generated;
    });
}

/** The documented total order: EventTimestamp, then shard id, then sequence number (bigint). */
function isAfter(a: GeneratedEvent, b: GeneratedEvent): boolean {
  if (a.timeMs !== b.timeMs) return a.timeMs > b.timeMs;
  if (a.shardId !== b.shardId) return a.shardId > b.shardId;
  return BigInt(a.sequenceNumber) > BigInt(b.sequenceNumber);
}

/**
 * The model: each agent's newest event decides its state, except that an agent whose newest
 * LOGIN/LOGOUT is a LOGOUT is logged out (`stayLoggedOutUntilLogin`, the default).
 */
function expectedStates(events: GeneratedEvent[]): RtaState[] {
  const newest = new Map<string, GeneratedEvent>();
  const newestMark = new Map<string, GeneratedEvent>();
  for (const e of events) {
    const current = newest.get(e.userCode);
    if (current === undefined || isAfter(e, current)) newest.set(e.userCode, e);
    if (e.eventType === 'LOGIN' || e.eventType === 'LOGOUT') {
      const mark = newestMark.get(e.userCode);
      if (mark === undefined || isAfter(e, mark)) newestMark.set(e.userCode, e);
    }
  }
  return [...newest.values()]
    .map((e) =>
      newestMark.get(e.userCode)?.eventType === 'LOGOUT'
        ? { userCode: e.userCode, stateCode: 'LOGGED-OFF', stateDescription: 'Logged out' }
        : e.state,
    )
    .sort((a, b) => (a.userCode < b.userCode ? -1 : a.userCode > b.userCode ? 1 : 0));
}

/** Any interleaving: a permutation of the records cut into batches, some records repeated. */
function withInterleaving(scenario: fc.Arbitrary<GeneratedEvent[]>) {
  return scenario.chain((events) =>
    fc.record({
      events: fc.constant(events),
      order: fc.shuffledSubarray(
        events.map((_, i) => i),
        { minLength: events.length, maxLength: events.length },
      ),
      repeats: fc.array(fc.integer({ min: 0, max: events.length - 1 }), { maxLength: 5 }),
      batchSizes: fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 1, maxLength: 20 }),
      postSucceeds: fc.array(fc.boolean(), { minLength: 1, maxLength: 20 }),
    }),
  );
}

function batchesOf<T>(items: T[], sizes: number[]): T[][] {
  const out: T[][] = [];
  let i = 0;
  let k = 0;
  while (i < items.length) {
    const size = sizes[k % sizes.length] ?? 1;
    out.push(items.slice(i, i + size));
    i += size;
    k += 1;
  }
  return out;
}

describe('collapsing any interleaving of events (property)', () => {
  it('ends with the state of the event with the greatest EventTimestamp for every agent (stayLoggedOutUntilLogin: false)', () => {
    fc.assert(
      fc.property(
        withInterleaving(scenarioArb(eventArb(600_000), true)),
        ({ events, order, batchSizes }) => {
          const c = new RtaDeltaCollapser({ stayLoggedOutUntilLogin: false });
          const records = order.map((i) => events[i]?.record as AgentEventRecord);
          for (const batch of batchesOf(records, batchSizes)) c.ingest(batch);
          const greatest = new Map<string, GeneratedEvent>();
          for (const e of events) {
            const g = greatest.get(e.userCode);
            if (g === undefined || e.timeMs > g.timeMs) greatest.set(e.userCode, e);
          }
          for (const [userCode, e] of greatest) {
            expect(c.snapshot().find((s) => s.userCode === userCode)).toEqual(e.state);
          }
          expect(c.agentCount).toBe(greatest.size);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('ends with the newest event state, or logged out when the newest LOGIN/LOGOUT is a LOGOUT', () => {
    fc.assert(
      fc.property(
        withInterleaving(scenarioArb(eventArb(600_000), true)),
        ({ events, order, batchSizes }) => {
          const c = new RtaDeltaCollapser();
          const records = order.map((i) => events[i]?.record as AgentEventRecord);
          for (const batch of batchesOf(records, batchSizes)) c.ingest(batch);
          expect(c.snapshot()).toEqual(expectedStates(events));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('breaks timestamp ties by the documented order, and drops repeated records', () => {
    fc.assert(
      fc.property(
        withInterleaving(scenarioArb(eventArb(3), false)),
        ({ events, order, repeats, batchSizes }) => {
          const c = new RtaDeltaCollapser();
          const records = order.map((i) => events[i]?.record as AgentEventRecord);
          // A producer retry: the same event again, later in the same shard.
          repeats.forEach((i, n) => {
            const original = events[i] as GeneratedEvent;
            records.push({
              ...original.record,
              sequenceNumber: (BigInt(original.sequenceNumber) + 1_000_000n + BigInt(n)).toString(),
            });
          });
          let duplicates = 0;
          let total = 0;
          for (const batch of batchesOf(records, batchSizes)) {
            const r = c.ingest(batch);
            duplicates += r.duplicates;
            total += r.accepted + r.duplicates + r.stale;
            expect(r.rejected).toEqual([]);
          }
          expect(total).toBe(records.length);
          expect(duplicates).toBe(repeats.length);
          expect(c.snapshot()).toEqual(expectedStates(events));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('delivers every final state to a WFM whose POSTs sometimes fail, never re-sending unchanged states', () => {
    fc.assert(
      fc.property(
        withInterleaving(scenarioArb(eventArb(5_000), false)),
        ({ events, order, batchSizes, postSucceeds }) => {
          const c = new RtaDeltaCollapser();
          const wfm = new Map<string, string>();
          const post = (succeeds: boolean) => {
            const delta = c.pendingDelta();
            for (const s of delta) {
              expect(wfm.get(s.userCode)).not.toBe(`${s.stateCode}|${s.stateDescription}`);
            }
            if (!succeeds) return;
            for (const s of delta) wfm.set(s.userCode, `${s.stateCode}|${s.stateDescription}`);
            c.markAccepted(delta);
          };
          const records = order.map((i) => events[i]?.record as AgentEventRecord);
          batchesOf(records, batchSizes).forEach((batch, k) => {
            c.ingest(batch);
            post(postSucceeds[k % postSucceeds.length] ?? true);
          });
          post(true);
          expect(c.pendingDelta()).toEqual([]);
          const expected = expectedStates(events);
          expect([...wfm.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(
            expected.map((s) => [s.userCode, `${s.stateCode}|${s.stateDescription}`]),
          );
        },
      ),
      { numRuns: 150 },
    );
  });

  it('survives an export/import at any point without changing the outcome', () => {
    fc.assert(
      fc.property(
        withInterleaving(scenarioArb(eventArb(5_000), false)),
        fc.integer({ min: 0, max: 100 }),
        ({ events, order }, cutPercent) => {
          const records = order.map((i) => events[i]?.record as AgentEventRecord);
          const cut = Math.floor((records.length * cutPercent) / 100);
          const before = new RtaDeltaCollapser();
          before.ingest(records.slice(0, cut));
          before.markAccepted(before.pendingDelta().slice(0, 1));
          const after = new RtaDeltaCollapser();
          after.importState(JSON.parse(JSON.stringify(before.exportState())));
          // After a restart the reader replays from its checkpoint: some records are seen again.
          after.ingest(records.slice(Math.max(0, cut - 3)));
          expect(after.snapshot()).toEqual(expectedStates(events));
        },
      ),
      { numRuns: 100 },
    );
  });
});
