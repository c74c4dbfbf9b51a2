/**
 * The contact-center model: a seeded discrete-event simulation of agents, queues and contacts
 * that emits what Amazon Connect emits (the package DESIGN.md). Outputs depend only on the
 * options, never on how fast the caller advances the clock.
 *
 * The model is built in layers: simulation-core.ts (state, clock, instance), agent-behaviour.ts
 * (agents and their events), contact-behaviour.ts (contacts, CTRs, Firehose) and this file (the
 * public class: construction, advancing and the ground truth).
 */
import { ContactBehaviour } from './contact-behaviour.js';
import { contactTruthOf } from './ctr-record.js';
import { DAY, REPORT_INTERVAL } from './entities.js';
import { intervalStats } from './interval-stats.js';
import type {
  AgentEventOutput,
  AgentPerformanceTruthRow,
  AgentQueueStatsTruthRow,
  AgentTruth,
  ContactTruth,
  InjectedMalformedRecord,
  IntervalSettings,
  QueueStatsTruthRow,
  SimulationOptions,
  SimulationOutput,
  TruthState,
} from './types.js';

export { defaultStart, TRUTH_LOGGED_OUT_CODE } from './entities.js';

/**
 * The contact-center model. Call {@link Simulation.advanceTo} with increasing simulated times and
 * write the outputs it returns; read the ground truth from it at any time.
 *
 * @example
 * const sim = new Simulation({ seed: 7, agents: 10, start: new Date('2026-12-06T08:00:00Z') });
 * const outputs = sim.advanceTo(sim.start + 3_600_000);
 * console.log(outputs.length, sim.agentTruth()[0]?.state.stateCode);
 */
export class Simulation extends ContactBehaviour {
  constructor(options: SimulationOptions = {}) {
    super(options);
    const firstDay = Math.floor(this.start / DAY) * DAY;
    for (const a of this.agents) this.planShifts(a, firstDay);
    for (const ch of ['VOICE', 'CHAT', 'TASK'] as const) this.scheduleArrival(ch);
    const firstInterval = Math.floor(this.start / REPORT_INTERVAL) * REPORT_INTERVAL;
    this.scheduleIntervalEnd(firstInterval + REPORT_INTERVAL);
  }

  /** Simulated now, epoch ms. */
  get now(): number {
    return this.nowMs;
  }

  /** Counters of what was produced so far. */
  get stats(): Readonly<{
    agentEvents: number;
    contacts: number;
    ctrRecords: number;
    objects: number;
    reports: number;
  }> {
    return { ...this.counters };
  }

  /**
   * Runs the model up to `until` (epoch ms, simulated) and returns what was written meanwhile,
   * in write order.
   */
  advanceTo(until: number): SimulationOutput[] {
    for (;;) {
      const next = this.agenda.peek();
      if (next === undefined || next.at > until) break;
      this.agenda.pop();
      this.nowMs = Math.max(this.nowMs, next.at);
      next.run();
    }
    this.nowMs = Math.max(this.nowMs, until);
    return this.out.splice(0);
  }

  /**
   * Ends the run at the current time: writes the CTR updates still waiting and the buffered CTRs,
   * and returns those outputs. Agents keep their state (the truth is the state at the end).
   */
  finish(): SimulationOutput[] {
    for (const [agent, held] of this.heldForReorder) {
      this.heldForReorder.delete(agent);
      this.push(held);
    }
    // pending (late) updates are written now so that the truth and the objects agree
    for (const c of [...this.pendingUpdates]) {
      c.lastUpdate = this.nowMs;
      this.writeCtr(c, true);
    }
    this.pendingUpdates.clear();
    this.flush();
    return this.out.splice(0);
  }

  // ---------------------------------------------------------------- ground truth

  /** Every agent with the state the WFM should hold now. */
  agentTruth(): AgentTruth[] {
    return this.agents.map((a) => ({
      username: a.def.username,
      arn: a.def.arn,
      routingProfile: a.def.profile.name,
      state: a.truth,
    }));
  }

  /** One agent's state changes (only changes of code or description), oldest first. */
  timeline(username: string): readonly TruthState[] {
    return this.byUsername.get(username)?.timeline ?? [];
  }

  /** Contacts whose CTR was written, with the expected CSV row of their latest version. */
  contactTruth(): ContactTruth[] {
    const rows: ContactTruth[] = [];
    for (const c of this.finished.values()) {
      if (c.versions === 0) continue;
      rows.push(contactTruthOf(c));
    }
    return rows;
  }

  /** Interval statistics computed from the model's contacts (docs/historical-formats.md#interval-statistics). */
  intervalStats(settings: IntervalSettings = {}): {
    queueRows: QueueStatsTruthRow[];
    agentQueueRows: AgentQueueStatsTruthRow[];
  } {
    return intervalStats(this.finished.values(), settings);
  }

  /** Agent performance figures of every report written so far. */
  agentPerformanceTruth(): readonly AgentPerformanceTruthRow[] {
    return this.perfRows;
  }

  /** Malformed CTR records injected so far (object key and byte offset). */
  injectedMalformedCtrs(): readonly InjectedMalformedRecord[] {
    return this.malformedCtrs;
  }

  /** Malformed agent events injected so far. */
  injectedMalformedAgentEvents(): readonly AgentEventOutput[] {
    return this.malformedEvents;
  }
}
