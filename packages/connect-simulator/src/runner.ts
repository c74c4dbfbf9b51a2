import { EventEmitter } from 'node:events';
import { configProblemsFrom, type Logger } from '@connect-wfm/core';
import { z } from 'zod';
import { SimulatorOptionsError } from './errors.js';
import { Simulation } from './model.js';
import type { PutRecordOutcome, SimulatorSink } from './sinks.js';
import type { AgentEventOutput, SimulationOptions, SimulationOutput } from './types.js';

/** Options of {@link ConnectSimulator}. */
export interface ConnectSimulatorOptions extends SimulationOptions {
  /** Simulated seconds per real second, or `'max'` (as fast as the sinks take it). @default 60 */
  readonly speed?: number | 'max';
  /** Simulated run length in seconds; without it the run lasts until aborted. */
  readonly durationSeconds?: number;
  /** Where outputs go. */
  readonly sinks: readonly SimulatorSink[];
  /** Real milliseconds between clock steps (paced runs). @default 200 */
  readonly tickMs?: number;
  /** Simulated seconds per step in `'max'` runs. @default 60 */
  readonly maxStepSeconds?: number;
  /** Optional logger. */
  readonly logger?: Logger;
}

/** An agent event once written, with where it landed. */
export interface WrittenAgentEvent {
  readonly output: AgentEventOutput;
  /** Where it landed, when the sink reports it (Kinesis). */
  readonly put: PutRecordOutcome | undefined;
}

/** Events of {@link ConnectSimulator}. */
export interface ConnectSimulatorEvents {
  /** Agent events written in one step. */
  agentEvents: [readonly WrittenAgentEvent[]];
  /** A CTR object or report written. */
  object: [SimulationOutput];
  /** After each step: simulated now (epoch ms). */
  tick: [number];
}

/** What a run did. */
export interface RunSummary {
  readonly simulatedStart: number;
  readonly simulatedEnd: number;
  readonly agentEvents: number;
  readonly contacts: number;
  readonly ctrRecords: number;
  readonly objects: number;
  readonly reports: number;
  /** True when the run ended because it was aborted. */
  readonly aborted: boolean;
}

const optionsSchema = z
  .object({
    seed: z.number().int().optional(),
    agents: z.number().int().min(1).max(100_000).optional(),
    start: z.date().optional(),
    speed: z.union([z.number().positive(), z.literal('max')]).optional(),
    durationSeconds: z.number().positive().optional(),
    tickMs: z.number().int().min(10).optional(),
    maxStepSeconds: z.number().positive().optional(),
    heartbeatSeconds: z.number().positive().optional(),
    heartbeatAfterLogoutSeconds: z.number().min(0).optional(),
    load: z.number().positive().optional(),
    faults: z
      .object({
        duplicate: z.number().min(0).max(1).optional(),
        reorder: z.number().min(0).max(1).optional(),
        malformed: z.number().min(0).max(1).optional(),
        lateUpdate: z.number().min(0).max(1).optional(),
      })
      .strict()
      .optional(),
    firehose: z
      .object({
        prefix: z.string().optional(),
        streamName: z.string().min(1).optional(),
        bufferBytes: z.number().int().min(1).optional(),
        bufferSeconds: z.number().min(1).optional(),
        gzip: z.boolean().optional(),
        delimiter: z.enum(['none', 'newline']).optional(),
      })
      .strict()
      .optional(),
    sinks: z.array(z.unknown()),
  })
  .passthrough();

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve();
      return;
    }
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Runs the contact-center model against a clock (real time, accelerated or as fast as possible)
 * and writes its outputs to the sinks; the model and its ground truth are in `simulation`.
 *
 * @example
 * const memory = new MemorySink();
 * const sim = new ConnectSimulator({ agents: 10, speed: 'max', durationSeconds: 3600, sinks: [memory] });
 * const summary = await sim.run();
 * console.log(summary.agentEvents, sim.simulation.agentTruth()[0]?.state.stateCode);
 */
export class ConnectSimulator extends EventEmitter<ConnectSimulatorEvents> {
  /** The model (ground truth included). */
  readonly simulation: Simulation;
  private readonly options: ConnectSimulatorOptions;

  constructor(options: ConnectSimulatorOptions) {
    super();
    const parsed = optionsSchema.safeParse(options);
    if (!parsed.success) {
      throw new SimulatorOptionsError(configProblemsFrom(parsed.error));
    }
    this.options = options;
    this.simulation = new Simulation(options);
  }

  /**
   * Runs until the duration is reached or `signal` aborts, then writes what is still buffered
   * (pending CTR updates, the Firehose buffer). Rejects when a sink fails for good.
   */
  async run(signal?: AbortSignal): Promise<RunSummary> {
    const sim = this.simulation;
    const speed = this.options.speed ?? 60;
    const end =
      this.options.durationSeconds === undefined
        ? Number.POSITIVE_INFINITY
        : sim.start + this.options.durationSeconds * 1000;
    const tickMs = this.options.tickMs ?? 200;
    const step = (this.options.maxStepSeconds ?? 60) * 1000;
    const realStart = Date.now();
    const logger = this.options.logger;
    logger?.info('simulation started', { start: new Date(sim.start).toISOString(), speed });
    while (sim.now < end && !signal?.aborted) {
      const target =
        speed === 'max' ? sim.now + step : sim.start + (Date.now() - realStart) * speed;
      await this.write(sim.advanceTo(Math.min(end, target)));
      this.emit('tick', sim.now);
      if (speed !== 'max' && sim.now < end) await sleep(tickMs, signal);
    }
    await this.write(sim.finish());
    const s = sim.stats;
    logger?.info('simulation ended', { ...s, aborted: signal?.aborted ?? false });
    return {
      simulatedStart: sim.start,
      simulatedEnd: sim.now,
      agentEvents: s.agentEvents,
      contacts: s.contacts,
      ctrRecords: s.ctrRecords,
      objects: s.objects,
      reports: s.reports,
      aborted: signal?.aborted ?? false,
    };
  }

  private async write(outputs: readonly SimulationOutput[]): Promise<void> {
    // agent events of a step go out together; objects in order after them
    const events = outputs.filter((o): o is AgentEventOutput => o.kind === 'agent-event');
    if (events.length > 0) {
      const outcomes = await Promise.all(
        this.options.sinks.map((s) => s.agentEvents?.(events) ?? Promise.resolve(undefined)),
      );
      const found = outcomes.find((o) => o !== undefined);
      this.emit(
        'agentEvents',
        events.map((output, i) => ({ output, put: found?.[i] })),
      );
    }
    for (const o of outputs) {
      if (o.kind === 'ctr-object') {
        await Promise.all(this.options.sinks.map((s) => s.ctrObject?.(o)));
        this.emit('object', o);
      } else if (o.kind === 'report') {
        await Promise.all(this.options.sinks.map((s) => s.report?.(o)));
        this.emit('object', o);
      }
    }
  }
}
