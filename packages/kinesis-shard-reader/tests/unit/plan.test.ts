import fc from 'fast-check';
import { decideStart, type PlanContext, type PlannedShard } from '../../src/plan.js';
import type { InitialPosition, ShardStatus } from '../../src/types.js';

const LATEST: InitialPosition = { type: 'LATEST' };
const TRIM: InitialPosition = { type: 'TRIM_HORIZON' };

function ctx(
  statuses: Record<string, ShardStatus>,
  read: string[] = [],
  initialPosition: InitialPosition = TRIM,
): PlanContext {
  return {
    statusOf: (id) => statuses[id],
    wasRead: (id) => read.includes(id),
    initialPosition,
  };
}

function shard(
  id: string,
  parentIds: string[] = [],
  extra: Partial<PlannedShard> = {},
): PlannedShard {
  return { id, parentIds, closed: false, checkpointSequenceNumber: null, ...extra };
}

describe('decideStart', () => {
  it("starts a child once its parent's final batch was handed out ('parent-delivered')", () => {
    const base = ctx({ p: 'ended' }, ['p']);
    expect(decideStart(shard('c', ['p']), base)).toEqual({ action: 'wait' });
    const handed: PlanContext = { ...base, finalBatchHandedOut: (id) => id === 'p' };
    expect(decideStart(shard('c', ['p']), handed)).toEqual({
      action: 'start',
      position: { type: 'TRIM_HORIZON' },
    });
    // a merge waits until both parents' final batches were handed out
    const half: PlanContext = {
      ...ctx({ a: 'ended', b: 'reading' }, ['a', 'b']),
      finalBatchHandedOut: (id) => id === 'a',
    };
    expect(decideStart(shard('c', ['a', 'b']), half)).toEqual({ action: 'wait' });
  });

  it('keeps the initial AT_TIMESTAMP for a child whose read parents all started there', () => {
    const timestamp = new Date('2026-01-01T00:00:00Z');
    const initial: InitialPosition = { type: 'AT_TIMESTAMP', timestamp };
    const started: Record<string, 'AT_TIMESTAMP' | 'AFTER_SEQUENCE_NUMBER'> = {
      a: 'AT_TIMESTAMP',
      b: 'AT_TIMESTAMP',
      r: 'AFTER_SEQUENCE_NUMBER',
    };
    const withStarts = (read: string[]): PlanContext => ({
      ...ctx({ a: 'finished', b: 'finished', r: 'finished' }, read, initial),
      startPositionOf: (id) =>
        started[id] === 'AT_TIMESTAMP'
          ? { type: 'AT_TIMESTAMP', timestamp }
          : { type: 'AFTER_SEQUENCE_NUMBER', sequenceNumber: '1' },
    });
    expect(decideStart(shard('c', ['a', 'b']), withStarts(['a', 'b']))).toEqual({
      action: 'start',
      position: { type: 'AT_TIMESTAMP', timestamp },
    });
    // a parent resumed from a checkpoint: the child reads from the start of its retention
    expect(decideStart(shard('c', ['a', 'r']), withStarts(['a', 'r']))).toEqual({
      action: 'start',
      position: { type: 'TRIM_HORIZON' },
    });
    // a parent read in an earlier run (no start position in this run)
    expect(decideStart(shard('c', ['a']), { ...ctx({ a: 'finished' }, ['a'], initial) })).toEqual({
      action: 'start',
      position: { type: 'TRIM_HORIZON' },
    });
  });

  it('waits while a parent that still exists is not finished', () => {
    for (const status of ['pending', 'reading', 'ended'] as const) {
      expect(decideStart(shard('c', ['p']), ctx({ p: status }))).toEqual({ action: 'wait' });
    }
  });

  it('waits for both parents of a merge (ParentShardId and AdjacentParentShardId)', () => {
    expect(decideStart(shard('c', ['a', 'b']), ctx({ a: 'finished', b: 'reading' }))).toEqual({
      action: 'wait',
    });
  });

  it('counts expired and skipped parents as finished', () => {
    expect(decideStart(shard('c', ['gone', 'b']), ctx({ b: 'skipped' }))).toMatchObject({
      action: 'start',
    });
  });

  it('starts a child of a shard this application read at TRIM_HORIZON, even with LATEST', () => {
    expect(decideStart(shard('c', ['p']), ctx({ p: 'finished' }, ['p'], LATEST))).toEqual({
      action: 'start',
      position: { type: 'TRIM_HORIZON' },
    });
  });

  it('resumes after the checkpoint when there is one', () => {
    expect(
      decideStart(shard('s', [], { checkpointSequenceNumber: '42' }), ctx({}, [], LATEST)),
    ).toEqual({
      action: 'start',
      position: { type: 'AFTER_SEQUENCE_NUMBER', sequenceNumber: '42' },
    });
  });

  it('skips closed shards without a checkpoint at LATEST and starts open ones at LATEST', () => {
    expect(decideStart(shard('s', [], { closed: true }), ctx({}, [], LATEST))).toEqual({
      action: 'skip',
    });
    expect(decideStart(shard('s', ['p']), ctx({ p: 'skipped' }, [], LATEST))).toEqual({
      action: 'start',
      position: { type: 'LATEST' },
    });
  });

  it('uses AT_TIMESTAMP for root shards without a checkpoint', () => {
    const timestamp = new Date('2026-01-01T00:00:00Z');
    expect(decideStart(shard('s'), ctx({}, [], { type: 'AT_TIMESTAMP', timestamp }))).toEqual({
      action: 'start',
      position: { type: 'AT_TIMESTAMP', timestamp },
    });
  });

  // A random resharding history, then a reader that starts shards as the planner allows and
  // finishes reading shards in a random order: no child may start before every parent is done,
  // and every shard is eventually started (with TRIM_HORIZON as initial position nothing is skipped).
  it('never starts a child before its parents, and starts every shard (property)', () => {
    const history = fc.array(fc.tuple(fc.boolean(), fc.nat(), fc.nat()), {
      minLength: 0,
      maxLength: 12,
    });
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        history,
        fc.array(fc.nat(), { maxLength: 60 }),
        (initial, ops, picks) => {
          const shards: PlannedShard[] = [];
          let open: string[] = [];
          let next = 0;
          const add = (parents: string[]) => {
            const id = `s${next++}`;
            shards.push(shard(id, parents));
            return id;
          };
          for (let i = 0; i < initial; i++) open.push(add([]));
          for (const [split, a] of ops) {
            if (split || open.length < 2) {
              const i = a % open.length;
              const p = open[i] as string;
              open = [...open.slice(0, i), add([p]), add([p]), ...open.slice(i + 1)];
            } else {
              const i = a % (open.length - 1);
              const [p, q] = [open[i] as string, open[i + 1] as string];
              open = [...open.slice(0, i), add([p, q]), ...open.slice(i + 2)];
            }
          }
          const closedIds = new Set(shards.filter((s) => !open.includes(s.id)).map((s) => s.id));
          const status: Record<string, ShardStatus> = Object.fromEntries(
            shards.map((s) => [s.id, 'pending' as ShardStatus]),
          );
          const read: string[] = [];
          const c = ctx(status, read);
          const schedule = () => {
            for (const s of shards) {
              if (status[s.id] !== 'pending') continue;
              const d = decideStart({ ...s, closed: closedIds.has(s.id) }, c);
              if (d.action === 'start') {
                for (const p of s.parentIds) expect(status[p]).toBe('finished');
                if (s.parentIds.length > 0) expect(d.position).toEqual({ type: 'TRIM_HORIZON' });
                status[s.id] = 'reading';
                read.push(s.id);
              }
              expect(d.action).not.toBe('skip');
            }
          };
          schedule();
          let pick = 0;
          for (let guard = 0; guard < 1000; guard++) {
            // Closed shards go reading -> ended (final batch out) -> finished (SHARD_END stored).
            const busy = shards.filter(
              (s) =>
                (status[s.id] === 'reading' || status[s.id] === 'ended') && closedIds.has(s.id),
            );
            if (busy.length === 0) break;
            const step = busy[(picks[pick++ % Math.max(1, picks.length)] ?? 0) % busy.length];
            if (step) status[step.id] = status[step.id] === 'reading' ? 'ended' : 'finished';
            schedule();
          }
          expect(shards.every((s) => status[s.id] !== 'pending')).toBe(true);
        },
      ),
    );
  });
});
