/**
 * The contact-center model: a seeded discrete-event simulation of agents, queues and contacts
 * that emits what Amazon Connect emits (the package DESIGN.md). Outputs depend only on the
 * options, never on how fast the caller advances the clock.
 */
import { SeededRandom } from './random.js';
import { arnId, csvJoin, isoMs, isoSeconds, keyTime } from './render.js';
import type {
  AgentEventOutput,
  AgentPerformanceTruthRow,
  AgentQueueStatsTruthRow,
  AgentTruth,
  Channel,
  ContactState,
  ContactTruth,
  CtrObjectOutput,
  InjectedMalformedRecord,
  IntervalSettings,
  QueueStatsTruthRow,
  SimulationOptions,
  SimulationOutput,
  TruthState,
} from './types.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const REPORT_INTERVAL = 30 * MINUTE;
const REPORT_DELAY = 15 * MINUTE;

/** The StateCode of a logged-out agent (docs/rta-state-rules.md#deriving-the-state). */
export const TRUTH_LOGGED_OUT_CODE = 'LOGGED-OFF';

/** Contact activity codes in precedence order, with descriptions (docs/rta-state-rules.md). */
const ACTIVITY: ReadonlyArray<{
  states: readonly ContactState[];
  code: string;
  description: string;
}> = [
  { states: ['CONNECTED'], code: 'OnContact', description: 'On contact' },
  { states: ['CONNECTED_ONHOLD'], code: 'OnHold', description: 'On hold' },
  {
    states: ['CONNECTING', 'INCOMING', 'PENDING'],
    code: 'Offered',
    description: 'Contact offered',
  },
  { states: ['ENDED'], code: 'AfterContactWork', description: 'After contact work' },
  { states: ['MISSED', 'ERROR', 'REJECTED'], code: 'Missed', description: 'Missed contact' },
];

type StatusType = 'ROUTABLE' | 'CUSTOM' | 'OFFLINE';
interface Status {
  readonly arn: string;
  readonly name: string;
  readonly type: StatusType;
}
interface Queue {
  readonly arn: string;
  readonly name: string;
  readonly channels: readonly Channel[];
}
interface RoutingProfile {
  readonly arn: string;
  readonly name: string;
  readonly concurrency: Readonly<Partial<Record<Channel, number>>>;
  readonly queues: readonly Queue[];
}
interface AgentDef {
  readonly index: number;
  readonly arn: string;
  readonly username: string;
  readonly firstName: string;
  readonly lastName: string;
  readonly profile: RoutingProfile;
  /** Offset of the shift start from 00:00 UTC. */
  readonly shiftOffset: number;
  /** Millisecond offset of this agent's event timestamps (so they are not all on whole seconds). */
  readonly msOffset: number;
  readonly hierarchy: Record<string, { ARN: string; GroupName: string }>;
}

interface Contact {
  readonly id: string;
  readonly channel: Channel;
  readonly method: string;
  readonly initialId: string | null;
  readonly previousId: string | null;
  nextId: string | null;
  queue: Queue | null;
  readonly initiatedAt: number;
  enqueuedAt: number | null;
  dequeuedAt: number | null;
  connectedAt: number | null;
  disconnectedAt: number | null;
  disconnectReason: string;
  agent: AgentRt | null;
  attempts: number;
  holds: number[];
  acwStart: number | null;
  acwEnd: number | null;
  transferAt: number | null;
  transferTo: string | null;
  customer: string | null;
  system: string | null;
  phase: 'flow' | 'queued' | 'offered' | 'agent' | 'done';
  attributes: Record<string, string>;
  versions: number;
  /** Firehose objects holding at least one version of this contact. */
  objects: number;
  lastUpdate: number;
}

interface Slot {
  readonly contact: Contact;
  state: ContactState;
  since: number;
}

interface Snapshot {
  readonly status: Status;
  readonly statusSince: number;
  readonly next: Status | null;
  readonly slots: ReadonlyArray<{ contact: Contact; state: ContactState; since: number }>;
}

interface AgentRt {
  readonly def: AgentDef;
  loggedIn: boolean;
  status: Status;
  statusSince: number;
  slots: Slot[];
  pending: { kind: 'status'; status: Status; minutes: number } | { kind: 'logout' } | null;
  idleSince: number;
  lastEventTs: number;
  lastSnapshot: Snapshot | null;
  beforeLogout: Snapshot | null;
  loggedOutAt: number | null;
  heartbeatGen: number;
  accSince: number;
  truth: TruthState;
  timeline: TruthState[];
}

interface Scheduled {
  readonly at: number;
  readonly seq: number;
  readonly run: () => void;
}

/** A binary min-heap of scheduled actions ordered by (time, insertion). */
class Agenda {
  private readonly heap: Scheduled[] = [];
  private seq = 0;

  push(at: number, run: () => void): void {
    const item = { at, seq: this.seq++, run };
    const h = this.heap;
    h.push(item);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p] as Scheduled;
      if (less(parent, item)) break;
      h[i] = parent;
      i = p;
    }
    h[i] = item;
  }

  peek(): Scheduled | undefined {
    return this.heap[0];
  }

  pop(): Scheduled | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (top === undefined || last === undefined || h.length === 0) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const lc = h[l] as Scheduled;
      const rc = h[r];
      const c = rc !== undefined && less(rc, lc) ? r : l;
      const child = h[c] as Scheduled;
      if (less(last, child)) break;
      h[i] = child;
      i = c;
    }
    h[i] = last;
    return top;
  }
}

function less(a: Scheduled, b: Scheduled): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

const FIRST_NAMES = [
  'Ana',
  'Ben',
  'Chloe',
  'Dev',
  'Elif',
  'Femi',
  'Greta',
  'Hiro',
  'Ines',
  'Jonas',
];
const LAST_NAMES = [
  'Alvarez',
  'Bianchi',
  'Chen',
  'Dubois',
  'Eriksen',
  'Fofana',
  'Garcia',
  'Haddad',
];

/** Default simulated start: today 08:00 UTC. */
export function defaultStart(now = Date.now()): Date {
  return new Date(Math.floor(now / DAY) * DAY + 8 * HOUR);
}

/**
 * The contact-center model. Call {@link Simulation.advanceTo} with increasing simulated times and
 * write the outputs it returns; read the ground truth from it at any time.
 *
 * @example
 * const sim = new Simulation({ seed: 7, agents: 10, start: new Date('2026-12-06T08:00:00Z') });
 * const outputs = sim.advanceTo(sim.start + 3_600_000);
 * console.log(outputs.length, sim.agentTruth()[0]?.state.stateCode);
 */
export class Simulation {
  /** Simulated start, epoch ms. */
  readonly start: number;
  /** Simulated now, epoch ms. */
  private nowMs: number;
  private readonly rng: SeededRandom;
  private readonly idRng: SeededRandom;
  private readonly agenda = new Agenda();
  private readonly out: SimulationOutput[] = [];
  private readonly region: string;
  private readonly accountId: string;
  private readonly instanceArn: string;
  private readonly heartbeatMs: number;
  private readonly heartbeatAfterLogoutMs: number;
  private readonly load: number;
  private readonly faults: Required<NonNullable<SimulationOptions['faults']>>;
  private readonly firehose: Required<NonNullable<SimulationOptions['firehose']>>;
  private readonly reportPrefix: string;
  private readonly reportName: string;
  private readonly statuses: Record<
    'available' | 'offline' | 'break' | 'lunch' | 'training' | 'meeting',
    Status
  >;
  private readonly queues: Queue[];
  private readonly agents: AgentRt[] = [];
  private readonly byUsername = new Map<string, AgentRt>();
  private readonly waiting = new Map<Queue, Contact[]>();
  private readonly finished = new Map<string, Contact>();
  private readonly perf = new Map<string, { online: number; npt: number; idle: number }>();
  private readonly perfRows: AgentPerformanceTruthRow[] = [];
  private readonly malformedCtrs: InjectedMalformedRecord[] = [];
  private readonly malformedEvents: AgentEventOutput[] = [];
  private buffer: { at: number; parts: Array<{ text: string; contactId: string | null }> } | null =
    null;
  private bufferBytes = 0;
  private bufferGen = 0;
  private heldForReorder = new Map<string, AgentEventOutput>();
  private counters = { agentEvents: 0, contacts: 0, ctrRecords: 0, objects: 0, reports: 0 };

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
    const status = (name: string, type: StatusType): Status => ({
      arn: `${this.instanceArn}/agent-state/${this.idRng.uuid()}`,
      name,
      type,
    });
    this.statuses = {
      available: status('Available', 'ROUTABLE'),
      offline: status('Offline', 'OFFLINE'),
      break: status('Break', 'CUSTOM'),
      lunch: status('Lunch', 'CUSTOM'),
      training: status('Training', 'CUSTOM'),
      meeting: status('Meeting', 'CUSTOM'),
    };
    const queue = (name: string, channels: Channel[]): Queue => ({
      arn: `${this.instanceArn}/queue/${this.idRng.uuid()}`,
      name,
      channels,
    });
    const sales = queue('Sales', ['VOICE']);
    const support = queue('Support', ['VOICE']);
    const chat = queue('Chat', ['CHAT']);
    const backOffice = queue('BackOffice', ['TASK']);
    this.queues = [sales, support, chat, backOffice];
    for (const q of this.queues) this.waiting.set(q, []);
    const profile = (
      name: string,
      concurrency: Partial<Record<Channel, number>>,
      queues: Queue[],
    ): RoutingProfile => ({
      arn: `${this.instanceArn}/routing-profile/${this.idRng.uuid()}`,
      name,
      concurrency,
      queues,
    });
    const profiles = [
      profile('Voice', { VOICE: 1 }, [sales, support]),
      profile('Omni', { VOICE: 1, CHAT: 2 }, [support, chat]),
      profile('BackOffice', { TASK: 1, CHAT: 3 }, [backOffice, chat]),
    ];
    const site = { ARN: `${this.instanceArn}/agent-group/${this.idRng.uuid()}`, GroupName: 'Site' };
    const count = options.agents ?? 20;
    for (let i = 0; i < count; i++) {
      const p = i % 10 < 5 ? profiles[0] : i % 10 < 8 ? profiles[1] : profiles[2];
      const def: AgentDef = {
        index: i,
        arn: `${this.instanceArn}/agent/${this.idRng.uuid()}`,
        username: `agent.${String(i + 1).padStart(4, '0')}`,
        firstName: FIRST_NAMES[i % FIRST_NAMES.length] as string,
        lastName: LAST_NAMES[(i * 7) % LAST_NAMES.length] as string,
        profile: p as RoutingProfile,
        shiftOffset: 6 * HOUR + ((i * 37) % 17) * 30 * MINUTE,
        msOffset: (i * 137 + 11) % 1000,
        hierarchy: { Level1: site },
      };
      const rt: AgentRt = {
        def,
        loggedIn: false,
        status: this.statuses.offline,
        statusSince: this.start,
        slots: [],
        pending: null,
        idleSince: this.start,
        lastEventTs: 0,
        lastSnapshot: null,
        beforeLogout: null,
        loggedOutAt: null,
        heartbeatGen: 0,
        accSince: this.start,
        truth: {
          stateCode: TRUTH_LOGGED_OUT_CODE,
          stateDescription: 'Logged out',
          loggedOut: true,
          since: 0,
          eventId: null,
        },
        timeline: [],
      };
      this.agents.push(rt);
      this.byUsername.set(def.username, rt);
      this.planShifts(rt, Math.floor(this.start / DAY) * DAY);
    }
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
      rows.push(this.contactTruthOf(c));
    }
    return rows;
  }

  /** Interval statistics computed from the model's contacts (docs/historical-formats.md#interval-statistics). */
  intervalStats(settings: IntervalSettings = {}): {
    queueRows: QueueStatsTruthRow[];
    agentQueueRows: AgentQueueStatsTruthRow[];
  } {
    const minutes = settings.intervalMinutes ?? 15;
    const perObject = settings.perObject ?? false;
    const sla = (settings.slaSeconds ?? 20) * SECOND;
    const shortAb = (settings.shortAbandonSeconds ?? 5) * SECOND;
    const q = new Map<string, Record<string, number | string>>();
    const aq = new Map<string, Record<string, number | string>>();
    for (const c of this.finished.values()) {
      if (c.versions === 0 || c.queue === null || c.enqueuedAt === null) continue;
      // with perObject, a contact in n objects is counted n times (maxima are unchanged)
      const n = perObject ? c.objects : 1;
      if (n === 0) continue;
      const iv = Math.floor(c.enqueuedAt / (minutes * MINUTE)) * minutes * MINUTE;
      const qid = arnId(c.queue.arn);
      const key = `${iv}|${qid}`;
      const row = q.get(key) ?? {
        interval_start: isoSeconds(iv),
        interval_minutes: minutes,
        queue_id: qid,
        queue_name: c.queue.name,
        talking_call_dur: 0,
        wrap_up_dur: 0,
        overflow_in_call_cnt: 0,
        overflow_out_call_cnt: 0,
        aband_call_cnt: 0,
        answ_call_cnt: 0,
        queued_and_answ_call_dur: 0,
        queued_and_aband_call_dur: 0,
        queued_answ_longest_que_dur: 0,
        queued_aband_longest_que_dur: 0,
        ans_servicelevel_cnt: 0,
        aband_short_call_cnt: 0,
        aband_within_sl_cnt: 0,
      };
      q.set(key, row);
      const add = (k: string, v: number) => {
        row[k] = (row[k] as number) + v * n;
      };
      const qms = (c.dequeuedAt ?? c.disconnectedAt ?? c.enqueuedAt) - c.enqueuedAt;
      const qs = qms / SECOND;
      const answered = c.connectedAt !== null && c.agent !== null;
      if (c.transferTo !== null) add('overflow_in_call_cnt', 1);
      if (c.transferAt !== null) add('overflow_out_call_cnt', 1);
      if (answered) {
        const f = this.figures(c);
        add('talking_call_dur', f.talk);
        add('wrap_up_dur', f.acw);
        add('answ_call_cnt', 1);
        add('queued_and_answ_call_dur', qs);
        row.queued_answ_longest_que_dur = Math.max(row.queued_answ_longest_que_dur as number, qs);
        if (qms < sla) add('ans_servicelevel_cnt', 1);
        const agentName = (c.agent as AgentRt).def.username;
        const akey = `${iv}|${qid}|${agentName}`;
        const arow = aq.get(akey) ?? {
          interval_start: isoSeconds(iv),
          interval_minutes: minutes,
          queue_id: qid,
          agent_username: agentName,
          talking_call_dur: 0,
          wrap_up_dur: 0,
          answ_call_cnt: 0,
          transfer_out_call_cnt: 0,
        };
        aq.set(akey, arow);
        arow.talking_call_dur = (arow.talking_call_dur as number) + f.talk * n;
        arow.wrap_up_dur = (arow.wrap_up_dur as number) + f.acw * n;
        arow.answ_call_cnt = (arow.answ_call_cnt as number) + n;
        if (c.transferAt !== null)
          arow.transfer_out_call_cnt = (arow.transfer_out_call_cnt as number) + n;
      } else {
        add('aband_call_cnt', 1);
        add('queued_and_aband_call_dur', qs);
        row.queued_aband_longest_que_dur = Math.max(row.queued_aband_longest_que_dur as number, qs);
        if (qms < shortAb) add('aband_short_call_cnt', 1);
        if (qms < sla) add('aband_within_sl_cnt', 1);
      }
    }
    const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
    const queueRows = [...q.values()] as unknown as QueueStatsTruthRow[];
    queueRows.sort(
      (a, b) => cmp(a.interval_start, b.interval_start) || cmp(a.queue_id, b.queue_id),
    );
    const agentQueueRows = [...aq.values()] as unknown as AgentQueueStatsTruthRow[];
    agentQueueRows.sort(
      (a, b) =>
        cmp(a.interval_start, b.interval_start) ||
        cmp(a.queue_id, b.queue_id) ||
        cmp(a.agent_username, b.agent_username),
    );
    return { queueRows, agentQueueRows };
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

  // ---------------------------------------------------------------- agents

  private schedule(at: number, run: () => void): void {
    this.agenda.push(Math.max(at, this.nowMs), run);
  }

  private planShifts(a: AgentRt, day: number): void {
    const shiftStart = day + a.def.shiftOffset;
    const shiftEnd = shiftStart + 8 * HOUR;
    if (shiftEnd <= this.start) {
      this.planShifts(a, day + DAY);
      return;
    }
    const loginAt = Math.max(shiftStart, this.start + (a.def.index % 60) * SECOND);
    this.schedule(loginAt, () => this.login(a));
    const breaks: Array<[number, Status, number]> = [
      [2 * HOUR, this.statuses.break, 15],
      [4 * HOUR, this.statuses.lunch, 30],
      [6 * HOUR, this.statuses.break, 15],
    ];
    if (this.rng.chance(0.3)) {
      breaks.push([
        HOUR + this.rng.int(0, 5) * 30 * MINUTE + 10 * MINUTE,
        this.rng.chance(0.5) ? this.statuses.training : this.statuses.meeting,
        20,
      ]);
    }
    for (const [offset, status, minutes] of breaks) {
      const at = shiftStart + offset + this.rng.int(0, 300) * SECOND;
      if (at > loginAt) this.schedule(at, () => this.requestStatus(a, status, minutes));
    }
    this.schedule(shiftEnd + this.rng.int(0, 600) * SECOND, () => this.requestLogout(a));
  }

  private login(a: AgentRt): void {
    if (a.loggedIn) return;
    this.account(a);
    a.loggedIn = true;
    a.status = this.statuses.available;
    a.statusSince = this.nowMs;
    a.idleSince = this.nowMs;
    a.pending = null;
    a.loggedOutAt = null;
    this.emit(a, 'LOGIN');
    this.dispatch();
  }

  private requestStatus(a: AgentRt, status: Status, minutes: number): void {
    if (!a.loggedIn || a.pending?.kind === 'logout') return;
    if (a.slots.length === 0) {
      this.setStatus(a, status, minutes);
      return;
    }
    a.pending = { kind: 'status', status, minutes };
    this.emit(a, 'STATE_CHANGE');
  }

  private setStatus(a: AgentRt, status: Status, minutes: number): void {
    this.account(a);
    a.pending = null;
    a.status = status;
    a.statusSince = this.nowMs;
    this.emit(a, 'STATE_CHANGE');
    const until = this.nowMs + minutes * MINUTE + this.rng.int(-60, 120) * SECOND;
    this.schedule(until, () => {
      if (!a.loggedIn || a.status !== status) return;
      this.account(a);
      a.status = this.statuses.available;
      a.statusSince = this.nowMs;
      a.idleSince = this.nowMs;
      this.emit(a, 'STATE_CHANGE');
      if (a.pending?.kind === 'logout') this.logout(a);
      else this.dispatch();
    });
  }

  private requestLogout(a: AgentRt): void {
    if (!a.loggedIn) return;
    if (a.slots.length === 0) {
      this.logout(a);
      return;
    }
    a.pending = { kind: 'logout' };
  }

  private logout(a: AgentRt): void {
    this.account(a);
    a.beforeLogout = a.lastSnapshot;
    a.loggedIn = false;
    a.pending = null;
    a.status = this.statuses.offline;
    a.statusSince = this.nowMs;
    a.loggedOutAt = this.nowMs;
    this.emit(a, 'LOGOUT');
    this.planShifts(a, Math.floor(this.nowMs / DAY) * DAY + DAY);
  }

  private afterSlotsChanged(a: AgentRt): void {
    if (a.slots.length > 0) return;
    a.idleSince = this.nowMs;
    const pending = a.pending;
    if (pending?.kind === 'logout') this.logout(a);
    else if (pending?.kind === 'status') this.setStatus(a, pending.status, pending.minutes);
  }

  private snapshot(a: AgentRt): Snapshot {
    return {
      status: a.status,
      statusSince: a.statusSince,
      next: a.pending?.kind === 'status' ? a.pending.status : null,
      slots: a.slots.map((s) => ({ contact: s.contact, state: s.state, since: s.since })),
    };
  }

  /** The state the WFM should hold, derived from the model (not from the event JSON). */
  private deriveTruth(a: AgentRt): { code: string; description: string; loggedOut: boolean } {
    if (!a.loggedIn)
      return { code: TRUTH_LOGGED_OUT_CODE, description: 'Logged out', loggedOut: true };
    for (const activity of ACTIVITY) {
      if (a.slots.some((s) => activity.states.includes(s.state))) {
        return { code: activity.code, description: activity.description, loggedOut: false };
      }
    }
    return { code: a.status.name, description: a.status.name, loggedOut: false };
  }

  private emit(a: AgentRt, type: 'LOGIN' | 'LOGOUT' | 'STATE_CHANGE' | 'HEART_BEAT'): void {
    const ts = Math.max(this.nowMs + a.def.msOffset, a.lastEventTs + 1);
    a.lastEventTs = ts;
    const eventId = this.idRng.uuid();
    let current: Snapshot;
    let previous: Snapshot | null;
    if (type === 'HEART_BEAT' && !a.loggedIn && a.beforeLogout !== null) {
      // Connect goes on sending heart beats after a logout with the last status before it
      current = a.beforeLogout;
      previous = a.beforeLogout;
    } else {
      current = this.snapshot(a);
      previous = a.lastSnapshot;
      a.lastSnapshot = current;
    }
    const record = {
      AWSAccountId: this.accountId,
      AgentARN: a.def.arn,
      CurrentAgentSnapshot: this.renderSnapshot(a, current),
      EventId: eventId,
      EventTimestamp: isoMs(ts),
      EventType: type,
      InstanceARN: this.instanceArn,
      PreviousAgentSnapshot:
        previous === null
          ? this.renderSnapshot(a, {
              status: this.statuses.offline,
              statusSince: this.start,
              next: null,
              slots: [],
            })
          : this.renderSnapshot(a, previous),
      Version: '2019-05-25',
    };
    const output: AgentEventOutput = {
      kind: 'agent-event',
      at: this.nowMs,
      partitionKey: a.def.arn,
      username: a.def.username,
      eventId,
      eventType: type,
      data: JSON.stringify(record),
    };
    this.counters.agentEvents++;
    const t = this.deriveTruth(a);
    if (t.code !== a.truth.stateCode || t.description !== a.truth.stateDescription) {
      a.truth = {
        stateCode: t.code,
        stateDescription: t.description,
        loggedOut: t.loggedOut,
        since: ts,
        eventId,
      };
      a.timeline.push(a.truth);
    }
    this.writeAgentEvent(a, output);
    this.scheduleHeartbeat(a);
  }

  private writeAgentEvent(a: AgentRt, output: AgentEventOutput): void {
    const f = this.faults;
    const held = this.heldForReorder.get(a.def.username);
    if (held !== undefined) {
      // the held event goes after this one: reordered in the stream
      this.heldForReorder.delete(a.def.username);
      this.push(output);
      this.push({ ...held, fault: 'reordered' });
    } else if (
      f.reorder > 0 &&
      output.eventType !== 'LOGIN' &&
      output.eventType !== 'LOGOUT' &&
      this.rng.chance(f.reorder)
    ) {
      this.heldForReorder.set(a.def.username, output);
    } else {
      this.push(output);
    }
    if (f.duplicate > 0 && this.rng.chance(f.duplicate))
      this.push({ ...output, fault: 'duplicate' });
    if (f.malformed > 0 && this.rng.chance(f.malformed)) {
      const bad: AgentEventOutput = {
        kind: 'agent-event',
        at: this.nowMs,
        partitionKey: a.def.arn,
        username: a.def.username,
        eventId: null,
        eventType: null,
        data: this.rng.chance(0.5)
          ? `{"EventType":"STATE_CHANGE","AgentARN":"${a.def.arn}","EventTimestamp":`
          : JSON.stringify({
              AgentARN: a.def.arn,
              EventId: this.idRng.uuid(),
              EventType: 'STATE_CHANGE',
              EventTimestamp: isoMs(this.nowMs),
              CurrentAgentSnapshot: { AgentStatus: null, Configuration: { Username: null } },
            }),
        fault: 'malformed',
      };
      this.malformedEvents.push(bad);
      this.push(bad);
    }
  }

  private push(output: SimulationOutput): void {
    this.out.push(output);
  }

  private scheduleHeartbeat(a: AgentRt): void {
    const gen = ++a.heartbeatGen;
    const at = this.nowMs + this.heartbeatMs;
    if (!a.loggedIn && (a.loggedOutAt === null || at > a.loggedOutAt + this.heartbeatAfterLogoutMs))
      return;
    this.schedule(at, () => {
      if (a.heartbeatGen !== gen) return;
      this.emit(a, 'HEART_BEAT');
    });
  }

  private renderSnapshot(a: AgentRt, s: Snapshot): Record<string, unknown> {
    const p = a.def.profile;
    const used = (ch: Channel) => s.slots.filter((x) => x.contact.channel === ch).length;
    const status = (st: Status, since: number) => ({
      ARN: st.arn,
      Name: st.name,
      StartTimestamp: isoMs(since + a.def.msOffset),
      Type: st.type,
    });
    const snapshot: Record<string, unknown> = {
      AgentStatus: status(s.status, s.statusSince),
      Configuration: {
        AgentHierarchyGroups: a.def.hierarchy,
        FirstName: a.def.firstName,
        LastName: a.def.lastName,
        RoutingProfile: {
          ARN: p.arn,
          Concurrency: (Object.entries(p.concurrency) as Array<[Channel, number]>).map(
            ([ch, max]) => ({
              AvailableSlots: Math.max(0, max - used(ch)),
              Channel: ch,
              MaximumSlots: max,
            }),
          ),
          DefaultOutboundQueue: {
            ARN: (p.queues[0] as Queue).arn,
            Channels: (p.queues[0] as Queue).channels,
            Name: (p.queues[0] as Queue).name,
          },
          InboundQueues: p.queues.map((q) => ({ ARN: q.arn, Channels: q.channels, Name: q.name })),
          Name: p.name,
        },
        Username: a.def.username,
      },
      Contacts: s.slots.map((x) => ({
        Channel: x.contact.channel,
        ConnectedToAgentTimestamp:
          x.contact.connectedAt !== null && x.contact.agent === a
            ? isoMs(x.contact.connectedAt + a.def.msOffset)
            : null,
        ContactId: x.contact.id,
        InitialContactId: x.contact.initialId,
        InitiationMethod: x.contact.method,
        Queue:
          x.contact.queue === null
            ? null
            : { ARN: x.contact.queue.arn, Name: x.contact.queue.name },
        QueueTimestamp: x.contact.enqueuedAt === null ? null : isoMs(x.contact.enqueuedAt),
        State: x.state,
        StateStartTimestamp: isoMs(x.since + a.def.msOffset),
      })),
    };
    if (s.next !== null) snapshot.NextAgentStatus = status(s.next, this.nowMs);
    return snapshot;
  }

  // ---------------------------------------------------------------- agent performance accounting

  /** Adds the time since the agent's last accounting to its report intervals. */
  private account(a: AgentRt, upTo = this.nowMs): void {
    let from = a.accSince;
    if (upTo <= from) return;
    a.accSince = upTo;
    if (!a.loggedIn) return;
    const npt = a.status.type === 'CUSTOM';
    const idle = a.status.type === 'ROUTABLE' && a.slots.length === 0;
    while (from < upTo) {
      const iv = Math.floor(from / REPORT_INTERVAL) * REPORT_INTERVAL;
      const end = Math.min(upTo, iv + REPORT_INTERVAL);
      const key = `${iv}|${a.def.username}`;
      const acc = this.perf.get(key) ?? { online: 0, npt: 0, idle: 0 };
      const d = end - from;
      acc.online += d;
      if (npt) acc.npt += d;
      if (idle) acc.idle += d;
      this.perf.set(key, acc);
      from = end;
    }
  }

  private scheduleIntervalEnd(end: number): void {
    this.schedule(end, () => {
      for (const a of this.agents) this.account(a, end);
      this.schedule(end + REPORT_DELAY, () => this.writeReport(end - REPORT_INTERVAL));
      this.scheduleIntervalEnd(end + REPORT_INTERVAL);
    });
  }

  private writeReport(iv: number): void {
    const lines = ['Agent,Interval,Agent idle time,Non-Productive Time,Online time'];
    let rows = 0;
    for (const a of this.agents) {
      const key = `${iv}|${a.def.username}`;
      const acc = this.perf.get(key);
      if (acc === undefined || acc.online === 0) continue;
      this.perf.delete(key);
      const online = Math.round(acc.online / SECOND);
      const npt = Math.round(acc.npt / SECOND);
      const idle = Math.round(acc.idle / SECOND);
      lines.push(
        csvJoin([
          a.def.username,
          isoSeconds(iv),
          idle === 0 ? '-' : String(idle),
          npt === 0 ? '-' : String(npt),
          String(online),
        ]),
      );
      this.perfRows.push({
        interval_start: isoSeconds(iv),
        agent_username: a.def.username,
        onlineSeconds: online,
        nonProductiveSeconds: npt,
        idleSeconds: idle,
      });
      rows++;
    }
    this.counters.reports++;
    this.push({
      kind: 'report',
      at: this.nowMs,
      key: `${this.reportPrefix}${this.reportName}-${keyTime(this.nowMs)}Z.csv`,
      body: `${lines.join('\n')}\n`,
      intervalStart: iv,
      rows,
    });
  }

  // ---------------------------------------------------------------- contacts

  private scheduleArrival(ch: Channel): void {
    const perAgentPerHour: Record<string, Partial<Record<Channel, number>>> = {
      Voice: { VOICE: 8 },
      Omni: { VOICE: 4, CHAT: 7 },
      BackOffice: { TASK: 3.5, CHAT: 4 },
    };
    let rate = 0;
    for (const a of this.agents) {
      if (a.loggedIn) rate += perAgentPerHour[a.def.profile.name]?.[ch] ?? 0;
    }
    const hour = (this.nowMs % DAY) / HOUR;
    const dayShape = 0.85 + 0.25 * Math.sin((Math.PI * (hour - 7)) / 9);
    rate *= this.load * dayShape;
    if (rate <= 0) {
      this.schedule(this.nowMs + MINUTE, () => this.scheduleArrival(ch));
      return;
    }
    const gap = Math.max(SECOND, Math.round(this.rng.exp(HOUR / rate) / SECOND) * SECOND);
    this.schedule(this.nowMs + gap, () => {
      this.arrive(ch);
      this.scheduleArrival(ch);
    });
  }

  private newContact(ch: Channel, method: string, queue: Queue, previous: Contact | null): Contact {
    const id = this.idRng.uuid();
    this.counters.contacts++;
    return {
      id,
      channel: ch,
      method,
      initialId: previous === null ? null : (previous.initialId ?? previous.id),
      previousId: previous?.id ?? null,
      nextId: null,
      queue,
      initiatedAt: this.nowMs,
      enqueuedAt: null,
      dequeuedAt: null,
      connectedAt: null,
      disconnectedAt: null,
      disconnectReason: 'CUSTOMER_DISCONNECT',
      agent: null,
      attempts: 0,
      holds: [],
      acwStart: null,
      acwEnd: null,
      transferAt: null,
      transferTo: null,
      customer:
        ch === 'VOICE' ? `+44770090${String(this.rng.int(0, 9999)).padStart(4, '0')}` : null,
      system: ch === 'VOICE' ? (queue.name === 'Sales' ? '+442079460000' : '+442079460001') : null,
      phase: 'flow',
      attributes: {},
      versions: 0,
      objects: 0,
      lastUpdate: 0,
    };
  }

  private arrive(ch: Channel): void {
    const [sales, support, chat, backOffice] = this.queues as [Queue, Queue, Queue, Queue];
    const queue =
      ch === 'VOICE'
        ? this.rng.chance(0.55)
          ? sales
          : support
        : ch === 'CHAT'
          ? chat
          : backOffice;
    const c = this.newContact(ch, ch === 'VOICE' ? 'INBOUND' : 'API', queue, null);
    if (ch === 'CHAT') c.attributes.customerName = this.rng.pick(FIRST_NAMES);
    if (ch === 'VOICE' && this.rng.chance(0.02)) {
      // hangs up in the contact flow, never queued
      c.queue = null;
      this.schedule(this.nowMs + this.rng.int(3, 30) * SECOND, () => {
        c.disconnectedAt = this.nowMs;
        this.finishContact(c);
      });
      return;
    }
    const flow = ch === 'VOICE' ? this.rng.int(5, 20) : this.rng.int(1, 6);
    this.schedule(this.nowMs + flow * SECOND, () => this.enqueue(c));
  }

  private enqueue(c: Contact): void {
    c.enqueuedAt = this.nowMs;
    c.phase = 'queued';
    (this.waiting.get(c.queue as Queue) as Contact[]).push(c);
    if (c.method !== 'CALLBACK') {
      const patienceMean = c.channel === 'VOICE' ? 120 : c.channel === 'CHAT' ? 300 : 7200;
      const patience = this.rng.chance(0.08)
        ? this.rng.int(1, 8) * SECOND
        : this.rng.seconds(patienceMean, 1);
      if (c.channel === 'VOICE' && patience > 60 * SECOND && this.rng.chance(0.2)) {
        this.schedule(this.nowMs + 60 * SECOND, () => this.requestCallback(c));
      } else {
        this.schedule(this.nowMs + patience, () => this.abandon(c));
      }
    }
    this.dispatch();
  }

  private removeWaiting(c: Contact): void {
    const list = this.waiting.get(c.queue as Queue) as Contact[];
    const i = list.indexOf(c);
    if (i >= 0) list.splice(i, 1);
  }

  private abandon(c: Contact): void {
    if (c.phase !== 'queued') return;
    this.removeWaiting(c);
    c.dequeuedAt = this.nowMs;
    c.disconnectedAt = this.nowMs;
    this.finishContact(c);
  }

  private requestCallback(c: Contact): void {
    if (c.phase !== 'queued') return;
    this.removeWaiting(c);
    c.dequeuedAt = this.nowMs;
    c.disconnectedAt = this.nowMs;
    c.disconnectReason = 'CONTACT_FLOW_DISCONNECT';
    const cb = this.newContact('VOICE', 'CALLBACK', c.queue as Queue, c);
    cb.customer = c.customer;
    c.nextId = cb.id;
    this.finishContact(c);
    this.enqueue(cb);
  }

  private canTake(a: AgentRt, c: Contact): boolean {
    if (!a.loggedIn || a.status.type !== 'ROUTABLE' || a.pending !== null) return false;
    const p = a.def.profile;
    const max = p.concurrency[c.channel];
    if (max === undefined || !p.queues.includes(c.queue as Queue)) return false;
    if (a.slots.length === 0) return true;
    return (
      c.channel === 'CHAT' &&
      a.slots.length < max &&
      a.slots.every((s) => s.contact.channel === 'CHAT')
    );
  }

  private dispatch(): void {
    const waiting: Contact[] = [];
    for (const list of this.waiting.values()) waiting.push(...list);
    if (waiting.length === 0) return;
    waiting.sort((x, y) => (x.enqueuedAt as number) - (y.enqueuedAt as number));
    for (const c of waiting) {
      let best: AgentRt | undefined;
      for (const a of this.agents) {
        if (!this.canTake(a, c)) continue;
        if (
          best === undefined ||
          a.slots.length < best.slots.length ||
          (a.slots.length === best.slots.length && a.idleSince < best.idleSince)
        ) {
          best = a;
        }
      }
      if (best !== undefined) this.offer(best, c);
    }
  }

  private offer(a: AgentRt, c: Contact): void {
    this.removeWaiting(c);
    c.phase = 'offered';
    c.attempts++;
    this.account(a);
    const slot: Slot = {
      contact: c,
      state: c.method === 'CALLBACK' ? 'INCOMING' : 'CONNECTING',
      since: this.nowMs,
    };
    a.slots.push(slot);
    this.emit(a, 'STATE_CHANGE');
    const ring = (c.channel === 'VOICE' ? this.rng.int(3, 12) : this.rng.int(2, 6)) * SECOND;
    const fails = this.rng.chance(0.03);
    this.schedule(this.nowMs + ring, () => {
      if (fails) {
        slot.state = c.channel === 'VOICE' ? 'MISSED' : 'REJECTED';
        slot.since = this.nowMs;
        this.emit(a, 'STATE_CHANGE');
        const hold = (c.channel === 'VOICE' ? this.rng.int(10, 30) : this.rng.int(1, 3)) * SECOND;
        this.schedule(this.nowMs + hold, () => {
          this.account(a);
          a.slots.splice(a.slots.indexOf(slot), 1);
          c.phase = 'queued';
          (this.waiting.get(c.queue as Queue) as Contact[]).unshift(c);
          this.emit(a, 'STATE_CHANGE');
          this.afterSlotsChanged(a);
          this.dispatch();
        });
        return;
      }
      this.answer(a, slot);
    });
  }

  private answer(a: AgentRt, slot: Slot): void {
    const c = slot.contact;
    c.phase = 'agent';
    c.agent = a;
    c.connectedAt = this.nowMs;
    c.dequeuedAt = this.nowMs;
    slot.state = 'CONNECTED';
    slot.since = this.nowMs;
    this.emit(a, 'STATE_CHANGE');
    const talk =
      c.channel === 'VOICE'
        ? this.rng.seconds(240, 0.6, 20)
        : c.channel === 'CHAT'
          ? this.rng.seconds(420, 0.5, 30)
          : this.rng.seconds(600, 0.5, 60);
    let totalHold = 0;
    if (c.channel === 'VOICE' && this.rng.chance(0.25)) {
      const holds = this.rng.chance(0.3) ? 2 : 1;
      for (let i = 0; i < holds; i++) {
        // a hold starts after a share of the talk time (and the holds before it)
        const holdStart =
          this.nowMs + Math.round((talk * (i + 1)) / (holds + 2) / SECOND) * SECOND + totalHold;
        const holdLen = this.rng.int(15, 90) * SECOND;
        totalHold += holdLen;
        this.schedule(holdStart, () => {
          slot.state = 'CONNECTED_ONHOLD';
          slot.since = this.nowMs;
          this.emit(a, 'STATE_CHANGE');
        });
        this.schedule(holdStart + holdLen, () => {
          c.holds.push(holdLen);
          slot.state = 'CONNECTED';
          slot.since = this.nowMs;
          this.emit(a, 'STATE_CHANGE');
        });
      }
    }
    const endAt = this.nowMs + talk + totalHold;
    const transfer = c.channel === 'VOICE' ? this.rng.next() : 1;
    this.schedule(endAt, () => this.endTalk(a, slot, transfer));
  }

  private endTalk(a: AgentRt, slot: Slot, transfer: number): void {
    const c = slot.contact;
    c.disconnectedAt = this.nowMs;
    c.disconnectReason = this.rng.chance(0.6) ? 'CUSTOMER_DISCONNECT' : 'AGENT_DISCONNECT';
    if (transfer < 0.05) {
      c.transferAt = this.nowMs;
      c.transferTo = '+442079461111';
      c.disconnectReason = 'THIRD_PARTY_DISCONNECT';
    } else if (transfer < 0.1) {
      const target = this.queues.find(
        (q) => q.channels.includes('VOICE') && q !== c.queue,
      ) as Queue;
      const next = this.newContact('VOICE', 'TRANSFER', target, c);
      next.customer = c.customer;
      c.nextId = next.id;
      c.disconnectReason = 'CONTACT_FLOW_DISCONNECT';
      this.enqueue(next);
    }
    this.account(a);
    slot.state = 'ENDED';
    slot.since = this.nowMs;
    c.acwStart = this.nowMs;
    this.emit(a, 'STATE_CHANGE');
    const acw =
      c.channel === 'VOICE'
        ? this.rng.seconds(30, 0.5, 5)
        : c.channel === 'CHAT'
          ? this.rng.seconds(15, 0.5, 3)
          : this.rng.seconds(45, 0.5, 5);
    this.schedule(this.nowMs + acw, () => {
      this.account(a);
      c.acwEnd = this.nowMs;
      a.slots.splice(a.slots.indexOf(slot), 1);
      this.emit(a, 'STATE_CHANGE');
      this.finishContact(c);
      this.afterSlotsChanged(a);
      this.dispatch();
    });
  }

  // ---------------------------------------------------------------- CTRs and Firehose

  private pendingUpdates = new Set<Contact>();

  private finishContact(c: Contact): void {
    c.phase = 'done';
    this.finished.set(c.id, c);
    const delay = this.rng.int(10, 90) * SECOND;
    this.schedule(this.nowMs + delay, () => {
      c.lastUpdate = this.nowMs;
      this.writeCtr(c, false);
      if (this.rng.chance(0.1)) {
        const late = this.faults.lateUpdate > 0 && this.rng.chance(this.faults.lateUpdate);
        const after = late ? this.rng.int(60, 180) * MINUTE : this.rng.int(2, 30) * MINUTE;
        this.pendingUpdates.add(c);
        this.schedule(this.nowMs + after, () => {
          if (!this.pendingUpdates.delete(c)) return;
          c.lastUpdate = this.nowMs;
          this.writeCtr(c, true);
        });
      }
    });
  }

  private figures(c: Contact): { talk: number; hold: number; acw: number } {
    const hold = c.holds.reduce((s, h) => s + h, 0) / SECOND;
    const talk =
      c.connectedAt === null || c.disconnectedAt === null
        ? 0
        : (c.disconnectedAt - c.connectedAt) / SECOND - hold;
    const acw = c.acwStart === null || c.acwEnd === null ? 0 : (c.acwEnd - c.acwStart) / SECOND;
    return { talk, hold, acw };
  }

  private writeCtr(c: Contact, update: boolean): void {
    if (update) {
      c.attributes.survey = String(this.rng.int(1, 5));
    }
    c.versions++;
    this.counters.ctrRecords++;
    const text = JSON.stringify(this.renderCtr(c));
    this.addToBuffer(text, c.id);
    if (this.faults.duplicate > 0 && this.rng.chance(this.faults.duplicate)) {
      this.counters.ctrRecords++;
      this.addToBuffer(text, c.id);
    }
    if (this.faults.malformed > 0 && this.rng.chance(this.faults.malformed)) {
      const variant = this.rng.int(0, 2);
      const bad =
        variant === 0
          ? `{"NotACtr":true,"Note":"simulated malformed record ${this.idRng.uuid()}"}`
          : variant === 1
            ? `{"ContactId":"${this.idRng.uuid()}","Channel":,"Agent":{"ARN":}}`
            : `{"ContactId":"${this.idRng.uuid()}","InitiationTimestamp":"not a time"}`;
      this.addToBuffer(bad, null);
    }
  }

  private renderCtr(c: Contact): Record<string, unknown> {
    const a = c.agent;
    const f = this.figures(c);
    const holds = c.holds.map((h) => h / SECOND);
    const endpoint = (addr: string | null) =>
      addr === null ? null : { Address: addr, Type: 'TELEPHONE_NUMBER' };
    const ts = (ms: number | null) => (ms === null ? null : isoSeconds(ms));
    return {
      AWSAccountId: this.accountId,
      AWSContactTraceRecordFormatVersion: '2017-03-10',
      Agent:
        a === null || c.connectedAt === null
          ? null
          : {
              ARN: a.def.arn,
              AfterContactWorkDuration: f.acw,
              AfterContactWorkEndTimestamp: ts(c.acwEnd),
              AfterContactWorkStartTimestamp: ts(c.acwStart),
              AgentInteractionDuration: f.talk,
              ConnectedToAgentTimestamp: ts(c.connectedAt),
              CustomerHoldDuration: f.hold,
              HierarchyGroups: a.def.hierarchy,
              LongestHoldDuration: holds.length === 0 ? 0 : Math.max(...holds),
              NumberOfHolds: holds.length,
              RoutingProfile: { ARN: a.def.profile.arn, Name: a.def.profile.name },
              Username: a.def.username,
            },
      AgentConnectionAttempts: c.attempts,
      Attributes: { ...c.attributes },
      Channel: c.channel,
      ConnectedToSystemTimestamp: ts(c.initiatedAt),
      ContactId: c.id,
      CustomerEndpoint: endpoint(c.customer),
      DisconnectReason: c.disconnectReason,
      DisconnectTimestamp: ts(c.disconnectedAt),
      InitialContactId: c.initialId,
      InitiationMethod: c.method,
      InitiationTimestamp: ts(c.initiatedAt),
      InstanceARN: this.instanceArn,
      LastUpdateTimestamp: ts(c.lastUpdate),
      MediaStreams: [{ Type: c.channel === 'VOICE' ? 'AUDIO' : c.channel }],
      NextContactId: c.nextId,
      PreviousContactId: c.previousId,
      Queue:
        c.queue === null || c.enqueuedAt === null
          ? null
          : {
              ARN: c.queue.arn,
              DequeueTimestamp: ts(c.dequeuedAt),
              Duration: ((c.dequeuedAt ?? c.enqueuedAt) - c.enqueuedAt) / SECOND,
              EnqueueTimestamp: ts(c.enqueuedAt),
              Name: c.queue.name,
            },
      Recording: null,
      Recordings: null,
      References: [],
      ScheduledTimestamp: null,
      SystemEndpoint: endpoint(c.system),
      TransferCompletedTimestamp: ts(c.transferAt),
      TransferredToEndpoint: endpoint(c.transferTo),
    };
  }

  private contactTruthOf(c: Contact): ContactTruth {
    const answered = c.agent !== null && c.connectedAt !== null;
    const f = this.figures(c);
    const queued = c.queue !== null && c.enqueuedAt !== null;
    const queueSeconds = queued
      ? ((c.dequeuedAt ?? c.enqueuedAt ?? 0) - (c.enqueuedAt ?? 0)) / SECOND
      : null;
    const agent = answered ? (c.agent as AgentRt) : null;
    // the 16 columns of docs/historical-formats.md#raw-ctr-csv, computed from the model
    const fields = [
      agent === null ? '' : arnId(agent.def.arn),
      agent === null ? '' : String(f.acw),
      agent === null ? '' : String(f.talk),
      agent === null ? '' : String(f.hold),
      agent === null ? '' : agent.def.username,
      c.channel,
      c.id,
      c.method,
      isoSeconds(c.initiatedAt),
      queued ? arnId((c.queue as Queue).arn) : '',
      queued ? String(queueSeconds) : '',
      queued ? isoSeconds(c.enqueuedAt as number) : '',
      queued ? (c.queue as Queue).name : '',
      c.system ?? '',
      c.transferAt === null ? '' : isoSeconds(c.transferAt),
      c.transferTo ?? '',
    ];
    return {
      contactId: c.id,
      channel: c.channel,
      initiationMethod: c.method,
      queueId: queued ? arnId((c.queue as Queue).arn) : null,
      queueName: queued ? (c.queue as Queue).name : null,
      agentUsername: agent?.def.username ?? null,
      answered,
      enqueuedAt: queued ? c.enqueuedAt : null,
      queueSeconds,
      talkSeconds: answered ? f.talk : 0,
      holdSeconds: answered ? f.hold : 0,
      acwSeconds: answered ? f.acw : 0,
      transferredOut: c.transferAt !== null,
      versions: c.versions,
      csvRow: csvJoin(fields),
    };
  }

  private addToBuffer(text: string, contactId: string | null): void {
    if (this.buffer === null) {
      this.buffer = { at: this.nowMs, parts: [] };
      const gen = ++this.bufferGen;
      this.schedule(this.nowMs + this.firehose.bufferSeconds * SECOND, () => {
        if (this.bufferGen === gen) this.flush();
      });
    }
    this.buffer.parts.push({ text, contactId });
    this.bufferBytes += Buffer.byteLength(text) + 1;
    if (this.bufferBytes >= this.firehose.bufferBytes) this.flush();
  }

  private flush(): void {
    const buf = this.buffer;
    if (buf === null) return;
    this.buffer = null;
    this.bufferBytes = 0;
    this.bufferGen++;
    const fh = this.firehose;
    const iso = isoSeconds(buf.at);
    const folder = `${iso.slice(0, 4)}/${iso.slice(5, 7)}/${iso.slice(8, 10)}/${iso.slice(11, 13)}/`;
    const key = `${fh.prefix}${folder}${fh.streamName}-1-${keyTime(buf.at)}-${this.idRng.uuid()}${fh.gzip ? '.gz' : ''}`;
    const sep = fh.delimiter === 'newline' ? '\n' : '';
    const chunks: Buffer[] = [];
    const malformed: InjectedMalformedRecord[] = [];
    const contactIds: string[] = [];
    let offset = 0;
    for (const part of buf.parts) {
      const bytes = Buffer.from(part.text + sep);
      if (part.contactId === null) {
        const m = { key, offset, length: Buffer.byteLength(part.text), text: part.text };
        malformed.push(m);
        this.malformedCtrs.push(m);
      } else {
        contactIds.push(part.contactId);
      }
      chunks.push(bytes);
      offset += bytes.length;
    }
    for (const id of new Set(contactIds)) {
      const c = this.finished.get(id);
      if (c !== undefined) c.objects++;
    }
    this.counters.objects++;
    const output: CtrObjectOutput = {
      kind: 'ctr-object',
      at: this.nowMs,
      key,
      body: Buffer.concat(chunks),
      records: contactIds.length,
      contactIds,
      malformed,
      gzip: fh.gzip,
    };
    this.push(output);
  }
}
