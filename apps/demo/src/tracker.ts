/**
 * Compares what the WFM holds (the RTA receiver) with the simulator's ground truth, and measures
 * the RTA latency (PutRecords returned → the WFM accepted the batch carrying that state).
 */
import type { Simulation, WrittenAgentEvent } from '@connect-wfm/connect-simulator';
import type { RtaReceivedBatch, RtaReceiver } from '@connect-wfm/testkit';

/** State codes the WFM uses for a logged-out agent. */
const LOGGED_OUT = new Set(['logged-off', 'ccc logged out']);

/** Latency histogram bucket upper bounds, ms. */
export const LATENCY_BUCKETS_MS = [250, 500, 1000, 2000, 5000, 10_000, 30_000, 60_000] as const;

/** One agent on the dashboard. */
export interface AgentView {
  readonly username: string;
  readonly profile: string;
  /** What the WFM holds (`null`: never received). */
  readonly wfm: string | null;
  readonly truth: string;
  /** The WFM differs from the truth for longer than the grace period. */
  readonly mismatch: boolean;
}

/** What the dashboard shows, sent over SSE. */
export interface DashboardState {
  readonly now: string;
  readonly simulatedNow: string;
  readonly agents: readonly AgentView[];
  readonly mismatches: number;
  readonly latency: {
    readonly count: number;
    readonly p50: number | null;
    readonly p90: number | null;
    readonly p99: number | null;
    readonly buckets: ReadonlyArray<{ readonly le: number | null; readonly count: number }>;
  };
  readonly eventsPerSecond: number;
  readonly eventsTotal: number;
  readonly contacts: number;
  readonly shardLagMs: number | null;
  readonly daemon: Readonly<Record<string, string | number | boolean | null>>;
  readonly files: ReadonlyArray<{ name: string; rows: number; bytes: number }>;
  readonly quarantined: ReadonlyArray<{ key: string; bytes: number }>;
  readonly notes: readonly string[];
}

function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? null;
}

/** Whether a WFM code and a truth state agree (any logged-out code matches a logged-out agent). */
export function statesAgree(wfm: string | null, truth: string, truthLoggedOut: boolean): boolean {
  if (truthLoggedOut) return wfm === null || LOGGED_OUT.has(wfm.toLowerCase());
  return wfm !== null && wfm.toLowerCase() === truth.toLowerCase();
}

/**
 * Follows the simulator's writes and the receiver's batches.
 *
 * @example
 * const tracker = new DemoTracker(simulator.simulation, receiver);
 * simulator.on('agentEvents', (e) => tracker.onAgentEvents(e));
 */
export class DemoTracker {
  private readonly putAt = new Map<string, number>();
  private readonly sampled = new Set<string>();
  private readonly latencies: number[] = [];
  private readonly recent: Array<[number, number]> = [];
  private eventsTotal = 0;
  private readonly differingSince = new Map<string, number>();

  constructor(
    private readonly sim: Simulation,
    receiver: RtaReceiver,
    private readonly graceMs = 5000,
  ) {
    receiver.on('batch', (b) => this.onBatch(b));
  }

  /** Records where and when agent events were put. */
  onAgentEvents(events: readonly WrittenAgentEvent[]): void {
    const now = Date.now();
    this.eventsTotal += events.length;
    this.recent.push([now, events.length]);
    for (const e of events) {
      if (e.output.eventId !== null && e.put !== undefined && e.output.fault === undefined) {
        this.putAt.set(e.output.eventId, e.put.putAt);
      }
    }
    // keep ten minutes of put times
    if (this.putAt.size > 200_000) {
      const drop = this.putAt.size - 150_000;
      let n = 0;
      for (const k of this.putAt.keys()) {
        if (n++ >= drop) break;
        this.putAt.delete(k);
      }
    }
  }

  private onBatch(batch: RtaReceivedBatch): void {
    const at = batch.receivedAt.getTime();
    for (const s of batch.states) {
      const timeline = this.sim.timeline(s.userCode);
      for (let i = timeline.length - 1; i >= 0 && i >= timeline.length - 20; i--) {
        const t = timeline[i];
        if (t === undefined || t.eventId === null) continue;
        if (t.stateCode.toLowerCase() !== s.stateCode.toLowerCase()) continue;
        if (this.sampled.has(t.eventId)) break;
        const put = this.putAt.get(t.eventId);
        if (put !== undefined) {
          this.sampled.add(t.eventId);
          this.latencies.push(Math.max(0, at - put));
        }
        break;
      }
    }
  }

  /** All latency samples so far (ms). */
  latencySamples(): readonly number[] {
    return this.latencies;
  }

  /** Agents with WFM state and truth, mismatch = differing for longer than the grace period. */
  agents(receiver: RtaReceiver): AgentView[] {
    const now = Date.now();
    const wfm = receiver.states();
    return this.sim.agentTruth().map((a) => {
      const held = wfm.get(a.username)?.stateCode ?? null;
      const agree = statesAgree(held, a.state.stateCode, a.state.loggedOut);
      let mismatch = false;
      if (agree) this.differingSince.delete(a.username);
      else {
        const since = this.differingSince.get(a.username) ?? now;
        this.differingSince.set(a.username, since);
        mismatch = now - since > this.graceMs;
      }
      return {
        username: a.username,
        profile: a.routingProfile,
        wfm: held,
        truth: a.state.stateCode,
        mismatch,
      };
    });
  }

  /** The latency summary and events per second (last 5 s). */
  figures(): Pick<DashboardState, 'latency' | 'eventsPerSecond' | 'eventsTotal'> {
    const now = Date.now();
    while (this.recent.length > 0 && (this.recent[0]?.[0] ?? now) < now - 5000) this.recent.shift();
    const perSecond = this.recent.reduce((s, [, n]) => s + n, 0) / 5;
    const sorted = [...this.latencies].sort((a, b) => a - b);
    const buckets: Array<{ le: number | null; count: number }> = LATENCY_BUCKETS_MS.map((le) => ({
      le,
      count: 0,
    }));
    buckets.push({ le: null, count: 0 });
    for (const l of this.latencies) {
      const b = buckets.find((x) => x.le === null || l <= x.le);
      if (b) b.count++;
    }
    return {
      latency: {
        count: sorted.length,
        p50: percentile(sorted, 50),
        p90: percentile(sorted, 90),
        p99: percentile(sorted, 99),
        buckets,
      },
      eventsPerSecond: Math.round(perSecond * 10) / 10,
      eventsTotal: this.eventsTotal,
    };
  }
}
