/**
 * The simulation's state and clock: options with their defaults, the instance (statuses, queues,
 * agents), the agenda of scheduled actions and the outputs written but not yet returned. The
 * behaviour lives in the classes built on it (agent-behaviour.ts, contact-behaviour.ts).
 */
import { Agenda } from './agenda.js';
import {
  type AgentRt,
  type Contact,
  defaultStart,
  type Queue,
  SECOND,
  type Statuses,
} from './entities.js';
import { SeededRandom } from './random.js';
import { buildTopology } from './topology.js';
import type {
  AgentEventOutput,
  AgentPerformanceTruthRow,
  InjectedMalformedRecord,
  SimulationOptions,
  SimulationOutput,
} from './types.js';

/** State shared by the simulation's behaviours; the public class is `Simulation` (model.ts). */
export abstract class SimulationCore {
  /** Simulated start, epoch ms. */
  readonly start: number;
  /** Simulated now, epoch ms. */
  protected nowMs: number;
  protected readonly rng: SeededRandom;
  protected readonly idRng: SeededRandom;
  protected readonly agenda = new Agenda();
  protected readonly out: SimulationOutput[] = [];
  protected readonly region: string;
  protected readonly accountId: string;
  protected readonly instanceArn: string;
  protected readonly heartbeatMs: number;
  protected readonly heartbeatAfterLogoutMs: number;
  protected readonly load: number;
  protected readonly faults: Required<NonNullable<SimulationOptions['faults']>>;
  protected readonly firehose: Required<NonNullable<SimulationOptions['firehose']>>;
  protected readonly reportPrefix: string;
  protected readonly reportName: string;
  protected readonly statuses: Statuses;
  protected readonly queues: Queue[];
  protected readonly agents: AgentRt[] = [];
  protected readonly byUsername = new Map<string, AgentRt>();
  protected readonly waiting = new Map<Queue, Contact[]>();
  protected readonly finished = new Map<string, Contact>();
  protected readonly perf = new Map<string, { online: number; npt: number; idle: number }>();
  protected readonly perfRows: AgentPerformanceTruthRow[] = [];
  protected readonly malformedCtrs: InjectedMalformedRecord[] = [];
  protected readonly malformedEvents: AgentEventOutput[] = [];
  protected buffer: {
    at: number;
    parts: Array<{ text: string; contactId: string | null }>;
  } | null = null;
  protected bufferBytes = 0;
  protected bufferGen = 0;
  protected heldForReorder = new Map<string, AgentEventOutput>();
  protected counters = { agentEvents: 0, contacts: 0, ctrRecords: 0, objects: 0, reports: 0 };
  protected readonly pendingUpdates = new Set<Contact>();

  constructor(options: SimulationOptions = {}) {
    const seed = options.seed ?? 1;
    this.rng = new SeededRandom(seed);
    this.idRng = new SeededRandom(seed ^ 0x5bd1e995);
    this.start = Math.floor((options.start ?? defaultStart()).getTime() / SECOND) * SECOND;
    this.nowMs = this.start;
    this.region = options.region ?? 'eu-west-2';
    this.accountId = options.accountId ?? '111122223333';
    const instanceId = options.instanceId ?? this.idRng.uuid();
    this.instanceArn = `arn:aws:connect:${this.region}:${this.accountId}:instance/${instanceId}`;
    this.heartbeatMs = (options.heartbeatSeconds ?? 120) * SECOND;
    this.heartbeatAfterLogoutMs = (options.heartbeatAfterLogoutSeconds ?? 3600) * SECOND;
    this.load = options.load ?? 1;
    this.faults = {
      duplicate: options.faults?.duplicate ?? 0,
      reorder: options.faults?.reorder ?? 0,
      malformed: options.faults?.malformed ?? 0,
      lateUpdate: options.faults?.lateUpdate ?? 0,
    };
    this.firehose = {
      prefix: options.firehose?.prefix ?? 'ctr/',
      streamName: options.firehose?.streamName ?? 'connect-ctr',
      bufferBytes: options.firehose?.bufferBytes ?? 5 * 1024 * 1024,
      bufferSeconds: options.firehose?.bufferSeconds ?? 300,
      gzip: options.firehose?.gzip ?? false,
      delimiter: options.firehose?.delimiter ?? 'none',
    };
    this.reportPrefix = options.reportPrefix ?? 'Reports/';
    this.reportName = options.reportName ?? 'TeleoptiAgentPerformance';
    const topology = buildTopology(this.instanceArn, this.idRng, options.agents ?? 20, this.start);
    this.statuses = topology.statuses;
    this.queues = topology.queues;
    for (const q of this.queues) this.waiting.set(q, []);
    for (const rt of topology.agents) {
      this.agents.push(rt);
      this.byUsername.set(rt.def.username, rt);
    }
  }

  /** Schedules `run` at `at` (never before now). */
  protected schedule(at: number, run: () => void): void {
    this.agenda.push(Math.max(at, this.nowMs), run);
  }

  /** Adds an output to those the next advance returns. */
  protected push(output: SimulationOutput): void {
    this.out.push(output);
  }
}
