/**
 * The whole daemon (its production bundle, a child process) against kinesalite (in its own
 * process) and the testkit's Teleopti receiver. Three measurements (issue 15, item 6):
 *
 * 1. Cold start: AGENTS agents on SHARDS shards, EVENTS Connect-shaped events in the window. The
 *    baseline is the shard reader alone (memory store, no collapser, no daemon) reading the same
 *    window to the tip in the same run. ratio = daemon events/s ÷ reader events/s (target ≥ 0.8).
 * 2. Latency from PutRecord to the WFM's receipt, with the default 5 s poll (target p99 ≤ poll + 1 s).
 * 3. Peak RSS (VmHWM) of the daemon after a cold start with RSS_AGENTS agents (target ≤ 256 MB).
 *    The daemon runs as deployed, with the memory settings of runtime-env.json that the image
 *    and the systemd unit set and its own RTA_HEAP_GROWING_PERCENT default; `peak_rss_untuned_mb`
 *    is the same run without either.
 *
 *   npm run bench -- rta-service                      full size: 10,000 agents, 20 shards, 1.5 M events, 50,000 agents
 *   RTA_BENCH_SCALE=0.02 npm run bench -- rta-service  a scaled run (every size × 0.02, at least 2 shards)
 *   RTA_BENCH_SHARDS=20 …                              the shard count, whatever the scale
 *   LATENCY_SAMPLES=60 POLL_MS=5000 RTA_READ_BUDGET_RECORDS=… other knobs
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryCheckpointStore } from '@connect-wfm/checkpoint-store';
import { KinesisShardReader } from '@connect-wfm/kinesis-shard-reader';
import {
  type KinesaliteServer,
  printBench,
  printTable,
  type RtaReceiver,
  seededRandom,
  startKinesalite,
  startRtaReceiver,
} from '@connect-wfm/testkit';
import { agentEvent, partitionKey } from '../tests/support/events.js';

const SCALE = Number(process.env.RTA_BENCH_SCALE ?? 1);
const AGENTS = Math.max(20, Math.round(10_000 * SCALE));
const SHARDS = Number(process.env.RTA_BENCH_SHARDS ?? Math.max(2, Math.round(20 * SCALE)));
const EVENTS = Math.max(AGENTS * 2, Math.round(1_500_000 * SCALE));
const RSS_AGENTS = Math.max(100, Math.round(Number(process.env.RSS_AGENTS ?? 50_000 * SCALE)));
const POLL_MS = Number(process.env.POLL_MS ?? 5000);
/** The daemon's RTA_READ_BUDGET_RECORDS when set here (else its default). */
const READ_BUDGET = process.env.RTA_READ_BUDGET_RECORDS;
const LATENCY_SAMPLES = Number(process.env.LATENCY_SAMPLES ?? 100);

const APP = join(import.meta.dirname, '..');
const BUNDLE = join(APP, 'dist', 'connect-wfm-rta.mjs');
/** The memory settings the image and the systemd unit set (see DESIGN.md#memory). */
const RUNTIME_ENV = JSON.parse(readFileSync(join(APP, 'runtime-env.json'), 'utf8')) as Record<
  string,
  string
>;
const STATUSES = ['Available', 'Break', 'Lunch', 'Training', 'Meeting', 'Coaching'];

/** A Connect-shaped agent event (~1.3 KB), as the daemon's tests write them. */
function event(
  username: string,
  status: string,
  timeMs: number,
  id: string,
  contact: boolean,
): string {
  return agentEvent({
    username,
    status,
    timeMs,
    eventId: id,
    contacts: contact ? [{ State: 'CONNECTED' }] : [],
  });
}

async function fill(
  kinesis: KinesaliteServer,
  stream: string,
  agents: number,
  events: number,
  seed: number,
): Promise<void> {
  const rand = seededRandom(seed);
  const base = Date.now() - 30 * 60_000;
  const chunk = 20_000;
  for (let start = 0; start < events; start += chunk) {
    const records = [];
    for (let i = start; i < Math.min(events, start + chunk); i += 1) {
      // Every agent once first, then random agents.
      const agent = i < agents ? i : Math.floor(rand() * agents);
      const username = `agent.${String(agent).padStart(6, '0')}`;
      records.push({
        data: event(
          username,
          STATUSES[Math.floor(rand() * STATUSES.length)] as string,
          base + i,
          `e-${seed}-${i}`,
          rand() < 0.3,
        ),
        partitionKey: partitionKey(username),
      });
    }
    await kinesis.putRecords(stream, records, { concurrency: 4 });
  }
}

/** The shard reader alone, from the same window to the tip: records/s. */
async function rawCatchUp(
  kinesis: KinesaliteServer,
  stream: string,
  from: Date,
): Promise<{ records: number; seconds: number }> {
  const client = kinesis.client({ maxAttempts: 3 });
  const reader = new KinesisShardReader({
    client,
    stream,
    checkpointStore: new MemoryCheckpointStore({ application: 'bench-raw', stream }),
    initialPosition: { type: 'AT_TIMESTAMP', timestamp: from },
    childShardStart: 'parent-delivered',
    maxRecords: 1000, // as the daemon reads (the reader's default is 10,000)
  });
  const started = performance.now();
  let records = 0;
  const caughtUp = new Promise<void>((resolve) => reader.once('caughtUp', () => resolve()));
  const consume = (async () => {
    for await (const batch of reader) records += batch.records.length;
  })();
  await caughtUp;
  const seconds = (performance.now() - started) / 1000;
  await reader.stop();
  await consume;
  return { records, seconds };
}

interface Daemon {
  child: ChildProcess;
  lines: Array<Record<string, unknown>>;
  waitFor(msg: string, timeoutMs: number): Promise<Record<string, unknown>>;
  peakRssMb(): number;
  stop(): Promise<void>;
}

function startDaemon(env: Record<string, string>, tuned = true): Daemon {
  const child = spawn(process.execPath, [BUNDLE], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      // untuned: neither runtime-env.json nor the daemon's heap growth setting
      ...(tuned ? RUNTIME_ENV : { RTA_HEAP_GROWING_PERCENT: '0' }),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: Array<Record<string, unknown>> = [];
  const waiters: Array<{ msg: string; resolve: (l: Record<string, unknown>) => void }> = [];
  let buffer = '';
  let peak = 0;
  const sampler = setInterval(() => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (m) peak = Math.max(peak, Number(m[1]) / 1024);
    } catch {
      /* exited */
    }
  }, 200);
  child.stdout?.setEncoding('utf8').on('data', (c: string) => {
    buffer += c;
    for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
      const text = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      try {
        const line = JSON.parse(text) as Record<string, unknown>;
        lines.push(line);
        for (const w of waiters.splice(0)) {
          if (line.msg === w.msg) w.resolve(line);
          else waiters.push(w);
        }
      } catch {
        /* not JSON */
      }
    }
  });
  return {
    child,
    lines,
    waitFor(msg, timeoutMs) {
      const found = lines.find((l) => l.msg === msg);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`daemon: no "${msg}" within ${timeoutMs} ms`)),
          timeoutMs,
        );
        waiters.push({
          msg,
          resolve: (l) => {
            clearTimeout(timer);
            resolve(l);
          },
        });
      });
    },
    peakRssMb: () => Math.round(peak * 10) / 10,
    async stop() {
      clearInterval(sampler);
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(t);
    },
  };
}

function daemonEnv(
  kinesis: KinesaliteServer,
  rta: RtaReceiver,
  stream: string,
  dir: string,
): Record<string, string> {
  return {
    RTA_STREAM: stream,
    AWS_REGION: kinesis.region,
    AWS_ACCESS_KEY_ID: kinesis.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: kinesis.credentials.secretAccessKey,
    RTA_KINESIS_ENDPOINT: kinesis.endpoint,
    RTA_WFM_URL: rta.url,
    RTA_AUTH_KEY: rta.authenticationKey,
    RTA_SOURCE_ID: '1',
    RTA_POLL_MS: String(POLL_MS),
    RTA_STORE: `file:${join(dir, `${stream}.json`)}`,
    RTA_HTTP_PORT: '0',
    RTA_INSTANCE_ID: `bench-${stream}`,
    RTA_LOG_LEVEL: 'info',
    ...(READ_BUDGET === undefined ? {} : { RTA_READ_BUDGET_RECORDS: READ_BUDGET }),
  };
}

function percentile(sorted: number[], p: number): number {
  return (
    sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN
  );
}

async function main(): Promise<void> {
  if (!existsSync(BUNDLE) || process.env.REBUILD !== '0') {
    const built = spawnSync(process.execPath, [join(APP, 'build.mjs')], { stdio: 'inherit' });
    if (built.status !== 0) throw new Error('bundle build failed');
  }
  const dir = mkdtempSync(join(tmpdir(), 'rta-bench-'));
  const kinesis = await startKinesalite({ childProcess: true });
  const rta = await startRtaReceiver({});
  try {
    // 1. Cold start vs the reader alone.
    const stream = 'bench-cold';
    await kinesis.createStream(stream, SHARDS);
    const from = new Date(Date.now() - 3_600_000);
    const filling = performance.now();
    await fill(kinesis, stream, AGENTS, EVENTS, 1);
    const fillSeconds = (performance.now() - filling) / 1000;
    const raw = await rawCatchUp(kinesis, stream, from);
    const rawRate = raw.records / raw.seconds;

    const daemon = startDaemon({
      ...daemonEnv(kinesis, rta, stream, dir),
      RTA_COLD_START_WINDOW_HOURS: '1',
    });
    const cold = await daemon.waitFor(
      'cold start: no committed state; reading the window, then one snapshot',
      120_000,
    );
    const tip = await daemon.waitFor('read every shard to the tip', 1_800_000);
    await daemon.waitFor('snapshot accepted by the WFM', 300_000);
    const coldSeconds = (Date.parse(String(tip.time)) - Date.parse(String(cold.time))) / 1000;
    const daemonRate = Number(tip.eventsRead) / coldSeconds;
    const snapshotAgents = rta.batches.find((b) => b.isSnapshot)?.states.length ?? 0;

    // 2. Latency: single events at spread-out times, PutRecord → receipt at the WFM.
    await daemon.waitFor('ready: first delivery accepted; polling', 60_000);
    const sent = new Map<string, number>();
    const received = new Map<string, number>();
    rta.on('batch', (b) => {
      for (const s of b.states) {
        const key = `${s.userCode}=${s.stateCode}`;
        if (sent.has(key) && !received.has(key)) received.set(key, b.receivedAt.getTime());
      }
    });
    const rand = seededRandom(7);
    for (let i = 0; i < LATENCY_SAMPLES; i += 1) {
      const username = `agent.${String(i % AGENTS).padStart(6, '0')}`;
      const status = `Lat${i}`;
      const at = Date.now();
      await kinesis.putRecords(stream, [
        {
          data: event(username, status, at, `lat-${i}`, false),
          partitionKey: partitionKey(username),
        },
      ]);
      sent.set(`${username}=${status}`, at);
      await new Promise((r) => setTimeout(r, 100 + Math.floor(rand() * 250)));
    }
    const until = Date.now() + POLL_MS * 3 + 5000;
    while (received.size < sent.size && Date.now() < until)
      await new Promise((r) => setTimeout(r, 200));
    const latencies = [...received].map(([k, t]) => t - (sent.get(k) ?? t)).sort((a, b) => a - b);
    await daemon.stop();

    // 3. Peak RSS after a cold start with RSS_AGENTS agents (two events each): as deployed,
    // then without the memory settings, each from its own stream.
    const peakRss = async (stream: string, tuned: boolean): Promise<number> => {
      await kinesis.createStream(stream, SHARDS);
      await fill(kinesis, stream, RSS_AGENTS, RSS_AGENTS * 2, 2);
      rta.reset();
      const big = startDaemon(
        { ...daemonEnv(kinesis, rta, stream, dir), RTA_COLD_START_WINDOW_HOURS: '1' },
        tuned,
      );
      await big.waitFor('snapshot accepted by the WFM', 1_800_000);
      await big.waitFor('committed state and checkpoints', 120_000);
      await new Promise((r) => setTimeout(r, POLL_MS));
      const peak = big.peakRssMb();
      await big.stop();
      return peak;
    };
    const tunedRss = await peakRss('bench-rss', true);
    const untunedRss = await peakRss('bench-rss-untuned', false);

    printTable([
      {
        variant: 'reader alone (baseline)',
        events: raw.records,
        seconds: raw.seconds,
        events_per_s: rawRate,
      },
      {
        variant: 'daemon cold start',
        events: Number(tip.eventsRead),
        seconds: coldSeconds,
        events_per_s: daemonRate,
        snapshot_agents: snapshotAgents,
      },
    ]);
    printBench('rta-service', {
      p50_ms: percentile(latencies, 50),
      p99_ms: percentile(latencies, 99),
      poll_ms: POLL_MS,
      latency_samples: latencies.length,
      latency_lost: sent.size - received.size,
      cold_start_ratio_vs_raw: daemonRate / rawRate,
      cold_events: EVENTS,
      cold_agents: AGENTS,
      shards: SHARDS,
      read_budget: READ_BUDGET ?? 'default',
      peak_rss_mb: tunedRss,
      peak_rss_untuned_mb: untunedRss,
      rss_agents: RSS_AGENTS,
      scale: SCALE,
      fill_s: fillSeconds,
    });
  } finally {
    await rta.stop();
    await kinesis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
