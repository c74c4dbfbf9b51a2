/**
 * Parse + derive + collapse throughput of realistic agent events (generated and seeded, in the
 * sample's shape: routing profile with concurrency and queues, random contacts, previous
 * snapshot) for 2,000 agents over 4 shards, against `JSON.parse` alone of the same records
 * (UTF-8 decode + JSON.parse: the least any consumer must do) in the same run.
 *
 * Two data sets: `rta-collapse` (~2 KB: half the events carry a PreviousAgentSnapshot) and
 * `rta-collapse-3kb` (every event carries one, like the sample file: ~3 KB).
 *
 *   npm run bench -- rta-collapse
 */

import { type AgentEventRecord, RtaDeltaCollapser } from '@connect-wfm/rta-delta-collapser';
import { peakRssMb, printBench, printTable, seededRandom } from '@connect-wfm/testkit';

const AGENTS = 2_000;
const SHARDS = 4;
const EVENTS = 40_000;
const BATCH = 1_000; // records per GetRecords batch handed to ingest
const ROUNDS = 9;

const rand = seededRandom(20230502);
const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)] as T;
const hex = (n: number) => {
  let s = '';
  for (let i = 0; i < n; i++) s += Math.floor(rand() * 16).toString(16);
  return s;
};
const uuid = () => `${hex(8)}-${hex(4)}-4${hex(3)}-8${hex(3)}-${hex(12)}`;

const INSTANCE = `arn:aws:connect:eu-west-2:111122223333:instance/${uuid()}`;
const STATUSES = [
  { Name: 'Available', Type: 'ROUTABLE' },
  { Name: 'Break', Type: 'CUSTOM' },
  { Name: 'Lunch', Type: 'CUSTOM' },
  { Name: 'Training', Type: 'CUSTOM' },
  { Name: 'Meeting', Type: 'CUSTOM' },
  { Name: 'Offline', Type: 'OFFLINE' },
].map((s) => ({ ...s, ARN: `${INSTANCE}/agent-state/${uuid()}` }));
const QUEUES = ['Sales', 'Support', 'Billing', 'Retention', 'Priority'].map((Name) => ({
  ARN: `${INSTANCE}/queue/${uuid()}`,
  Name,
}));
const CONTACT_STATES = [
  'CONNECTED',
  'CONNECTED',
  'CONNECTED',
  'CONNECTED_ONHOLD',
  'CONNECTING',
  'INCOMING',
  'ENDED',
  'ENDED',
  'MISSED',
  'REJECTED',
];
const FIRST = ['Ana', 'Ben', 'Chen', 'Dana', 'Eko', 'Fatima', 'Gus', 'Hiro', 'Ines', 'Jon'];
const LAST = ['Alvarez', 'Bianchi', 'Chen', 'Dunn', 'Eze', 'Fischer', 'Gomez', 'Haas', 'Ito'];

function configuration(i: number) {
  const queues = QUEUES.filter(() => rand() < 0.2).slice(0, 2);
  return {
    AgentHierarchyGroups:
      rand() < 0.1 ? { Level1: { ARN: `${INSTANCE}/agent-group/${uuid()}`, Name: 'EMEA' } } : null,
    FirstName: pick(FIRST),
    LastName: pick(LAST),
    RoutingProfile: {
      ARN: `${INSTANCE}/routing-profile/${uuid()}`,
      Concurrency: [
        { AvailableSlots: 1, Channel: 'VOICE', MaximumSlots: 1 },
        { AvailableSlots: 2, Channel: 'CHAT', MaximumSlots: 2 },
      ],
      DefaultOutboundQueue: { ...QUEUES[0], Channels: ['VOICE'] },
      InboundQueues: (queues.length > 0 ? queues : QUEUES.slice(0, 1)).map((q) => ({
        ...q,
        Channels: ['VOICE', 'CHAT'],
      })),
      Name: 'Omni-Channel',
    },
    Username: `agent.${String(i).padStart(4, '0')}`,
  };
}

type Snapshot = Record<string, unknown>;
const agents = Array.from({ length: AGENTS }, (_, i) => ({
  config: configuration(i),
  arn: `${INSTANCE}/agent/${uuid()}`,
  previous: null as Snapshot | null,
}));

function snapshot(agent: (typeof agents)[number], timestamp: string): Snapshot {
  const status = rand() < 0.7 ? STATUSES[0] : pick(STATUSES);
  const contacts = Array.from({ length: rand() < 0.65 ? 0 : rand() < 0.85 ? 1 : 2 }, (_, k) => ({
    Channel: k === 0 ? 'VOICE' : 'CHAT',
    ConnectedToAgentTimestamp: timestamp,
    ContactId: uuid(),
    InitialContactId: null,
    InitiationMethod: 'INBOUND',
    Queue: pick(QUEUES),
    QueueTimestamp: timestamp,
    State: pick(CONTACT_STATES),
    StateStartTimestamp: timestamp,
  }));
  return {
    AgentStatus: { ...status, StartTimestamp: timestamp },
    Configuration: agent.config,
    Contacts: contacts,
    ...(rand() < 0.05
      ? { NextAgentStatus: { ...pick(STATUSES), EnqueuedTimestamp: timestamp } }
      : {}),
  };
}

// Records in shard order; timestamps advance ~5 ms per event, with a little disorder.
function generate(previousShare: number): { batches: AgentEventRecord[][]; avgBytes: number } {
  const start = Date.UTC(2023, 4, 2, 8, 0, 0);
  const sequence = Array.from({ length: SHARDS }, () => 0n);
  const records: AgentEventRecord[] = [];
  let totalBytes = 0;
  for (let n = 0; n < EVENTS; n++) {
    const a = Math.floor(rand() * AGENTS);
    const agent = agents[a] as (typeof agents)[number];
    const jitter = rand() < 0.02 ? -Math.floor(rand() * 2_000) : 0;
    const timestamp = new Date(start + n * 5 + jitter).toISOString();
    const current = snapshot(agent, timestamp);
    const r = rand();
    const event = {
      AWSAccountId: '111122223333',
      AgentARN: agent.arn,
      CurrentAgentSnapshot: current,
      EventId: uuid(),
      EventTimestamp: timestamp,
      EventType: r < 0.8 ? 'STATE_CHANGE' : r < 0.95 ? 'HEART_BEAT' : r < 0.98 ? 'LOGIN' : 'LOGOUT',
      InstanceARN: INSTANCE,
      PreviousAgentSnapshot: rand() < previousShare ? agent.previous : null,
      Version: '2019-05-25',
    };
    agent.previous = current;
    const shard = a % SHARDS;
    sequence[shard] = (sequence[shard] ?? 0n) + 1n;
    const data = Buffer.from(JSON.stringify(event), 'utf8');
    totalBytes += data.byteLength;
    records.push({
      shardId: `shardId-${String(shard).padStart(12, '0')}`,
      sequenceNumber: (
        49_640_912_345_678_901_234_567_890_123_456_789_012_345_678_900_000n + sequence[shard]
      ).toString(),
      data,
    });
  }
  const batches: AgentEventRecord[][] = [];
  for (let i = 0; i < records.length; i += BATCH) batches.push(records.slice(i, i + BATCH));
  return { batches, avgBytes: Math.round(totalBytes / EVENTS) };
}

const decoder = new TextDecoder();
let sink = 0;

function parseOnly(batch: AgentEventRecord[]): void {
  for (const rec of batch) {
    const event = JSON.parse(decoder.decode(rec.data)) as { EventType: string };
    sink += event.EventType.length;
  }
}

function elapsedMs(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/**
 * One pass over all records: for each batch, JSON.parse alone, then the collapser (ingest and a
 * poll: delta marked accepted). Interleaving per batch exposes both to the same machine load.
 */
function round(batches: AgentEventRecord[][]): { parseMs: number; collapseMs: number } {
  const collapser = new RtaDeltaCollapser({ includeChannel: true });
  let parseMs = 0;
  let collapseMs = 0;
  for (const batch of batches) {
    let t0 = process.hrtime.bigint();
    parseOnly(batch);
    parseMs += elapsedMs(t0);
    t0 = process.hrtime.bigint();
    const result = collapser.ingest(batch);
    collapser.markAccepted(collapser.pendingDelta());
    collapseMs += elapsedMs(t0);
    sink += result.accepted + result.rejected.length;
  }
  sink += collapser.snapshot().length;
  return { parseMs, collapseMs };
}

const gc = (globalThis as { gc?: () => void }).gc;
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? 0;

/**
 * The machine is shared (other processes come and go), so each figure is the best of the rounds
 * (the least disturbed), as usual for throughput benchmarks; `ratio_median` is the median of the
 * per-round ratios, where both variants ran interleaved batch by batch.
 */
function measure(name: string, previousShare: number): void {
  const { batches, avgBytes } = generate(previousShare);
  round(batches); // warm-up
  const rows: { round: number; parse_only_ev_s: number; collapse_ev_s: number; ratio: number }[] =
    [];
  for (let r = 1; r <= ROUNDS; r++) {
    gc?.();
    const { parseMs, collapseMs } = round(batches);
    rows.push({
      round: r,
      parse_only_ev_s: Math.round((EVENTS / parseMs) * 1000),
      collapse_ev_s: Math.round((EVENTS / collapseMs) * 1000),
      ratio: parseMs / collapseMs,
    });
  }
  process.stdout.write(
    `\n${name}: events=${EVENTS} agents=${AGENTS} shards=${SHARDS} avg_event_bytes=${avgBytes}\n`,
  );
  printTable(rows);
  const best = Math.max(...rows.map((r) => r.collapse_ev_s));
  const bestParse = Math.max(...rows.map((r) => r.parse_only_ev_s));
  printBench(name, {
    events_per_s: best,
    parse_only_events_per_s: bestParse,
    ratio_vs_parse_only: best / bestParse,
    ratio_median: median(rows.map((r) => r.ratio)),
    avg_event_bytes: avgBytes,
    peak_rss_mb: peakRssMb(),
  });
}

measure('rta-collapse', 0.5);
gc?.();
measure('rta-collapse-3kb', 1);
if (sink === 0) process.exitCode = 1; // keeps the work observable
