/**
 * `npm run demo`: the embedded peers, the simulator, the RTA daemon and the historical Lambda on
 * one machine, with a live dashboard (static page + server-sent events) and a verification summary.
 * The pieces: peers.ts (peers), feeds.ts (the two apps and the simulator), dashboard.ts (the page
 * and its feed), verify.ts (WFM vs truth); this file wires them, schedules and injects faults.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { RunSummary } from '@connect-wfm/connect-simulator';
import { freePort, type RtaReceiver } from '@connect-wfm/testkit';
import { startDashboard } from './dashboard.js';
import {
  createSimulator,
  type LambdaHost,
  ROOT,
  RtaDaemonProcess,
  type StatisticsOutputs,
  startLambdaHost,
} from './feeds.js';
import { BUCKET, type SftpChoice, STREAM, sftpChoiceFromEnv, startPeers } from './peers.js';
import { type DashboardState, DemoTracker, statesAgree } from './tracker.js';
import { type DeliveredFile, listDelivered, type VerificationSummary, verify } from './verify.js';

export type { StatisticsOutputs } from './feeds.js';
export type { SftpChoice } from './peers.js';
export type { DeliveredFile, StatisticsCheck, VerificationSummary } from './verify.js';

/** Options of {@link startDemo}. */
export interface DemoOptions {
  /** Agents. @default 40 */
  readonly agents?: number;
  /** Simulated seconds per real second. @default 60 */
  readonly speed?: number;
  /** Simulated start. @default today 08:00 UTC */
  readonly start?: Date;
  /** Wall-clock run length in ms; without it the demo runs until `stop()`. */
  readonly durationMs?: number;
  /** Simulated run length in seconds (the demo then ends by itself). */
  readonly simulatedSeconds?: number;
  /** Inject faults on the way: daemon kill -9, WFM outage, sshd restart, shard split. @default false */
  readonly chaos?: boolean;
  /** Length of the chaos WFM outage in ms. @default 15000 */
  readonly outageMs?: number;
  /** Fault rates of the simulator. @default small rates of each fault */
  readonly faults?: {
    duplicate?: number;
    reorder?: number;
    malformed?: number;
    lateUpdate?: number;
  };
  /** Interval statistics partials the Lambda writes (its `STATS_OUTPUTS`). @default 'none' */
  readonly statistics?: StatisticsOutputs;
  /** SFTP server: OpenSSH, the ssh2 fallback, or OpenSSH when installed. @default `DEMO_SFTP` or 'auto' */
  readonly sftp?: SftpChoice;
  /** Seed. @default 1 */
  readonly seed?: number;
  /** Dashboard port (0 = any free port). @default 0 */
  readonly port?: number;
  /** Run the RTA daemon (when apps/rta-service exists). @default true */
  readonly rta?: boolean;
  /** Run the historical Lambda (when apps/historical-lambda exists). @default true */
  readonly historical?: boolean;
  /** Where progress lines go. @default none */
  readonly log?: (line: string) => void;
}

/** A running demo. */
export interface DemoHandle {
  /** Dashboard URL (`http://127.0.0.1:<port>/`). */
  readonly url: string;
  /** The WFM (RTA receiver), e.g. to inject a wrong state. */
  readonly receiver: RtaReceiver;
  /** Which SFTP server delivers the files (`undefined`: the historical feed is not wired). */
  readonly sftp: 'openssh' | 'ssh2' | undefined;
  /** What the dashboard shows now. */
  state(): Promise<DashboardState>;
  /**
   * Posts a state for an agent straight to the WFM, as if something else had set it: the
   * dashboard then shows a mismatch with the truth (the browser test uses this).
   */
  injectWfmState(userCode: string, stateCode: string): Promise<void>;
  /** Stops everything and returns the verification. Idempotent. */
  stop(): Promise<VerificationSummary>;
  /** Resolves when the demo ended (duration reached or stopped). */
  readonly done: Promise<VerificationSummary>;
}

/**
 * Starts the demo. Everything listens on 127.0.0.1 with ports chosen at run time.
 *
 * @example
 * const demo = await startDemo({ agents: 20, speed: 60 });
 * console.log(demo.url);
 * const summary = await demo.stop();
 */
export async function startDemo(options: DemoOptions = {}): Promise<DemoHandle> {
  const setupStarted = Date.now();
  const log = options.log ?? (() => {});
  const speed = options.speed ?? 60;
  const statistics = options.statistics ?? 'none';
  const notes: string[] = [];
  const work = await mkdtemp(join(tmpdir(), 'connect-wfm-demo-'));

  const wantHistorical =
    (options.historical ?? true) && existsSync(join(ROOT, 'apps/historical-lambda/src/index.ts'));
  if (!wantHistorical && (options.historical ?? true)) {
    notes.push('apps/historical-lambda is not in this checkout: the historical feed is not wired.');
  }
  const peers = await startPeers({
    historical: wantHistorical,
    sftp: options.sftp ?? sftpChoiceFromEnv(),
    notes,
    log,
  });
  const { receiver, sftp } = peers;

  // ----- the RTA daemon, its own bin in a child process
  const wantRta = (options.rta ?? true) && RtaDaemonProcess.available;
  const rtaPort = await freePort();
  const rta = new RtaDaemonProcess(peers, { workDir: work, httpPort: rtaPort, speed });
  if (wantRta) {
    rta.start();
    log(
      `RTA daemon: apps/rta-service (pid ${rta.pid}), metrics http://127.0.0.1:${rtaPort}/metrics`,
    );
  } else notes.push('apps/rta-service is not in this checkout: the RTA feed is not wired.');

  // ----- the historical Lambda, in a child process like a Lambda container (starting while the daemon does)
  const lambda: LambdaHost | undefined = wantHistorical
    ? await startLambdaHost(peers, { statistics, notes })
    : undefined;

  // ----- the simulator
  const { simulator, destroy: destroySimulatorClients } = createSimulator(peers, {
    agents: options.agents ?? 40,
    speed,
    seed: options.seed,
    start: options.start,
    simulatedSeconds: options.simulatedSeconds,
    faults: options.faults,
  });
  const sim = simulator.simulation;
  const tracker = new DemoTracker(sim, receiver);
  simulator.on('agentEvents', (e) => tracker.onAgentEvents(e));
  const objectsPerContact = new Map<string, number>();
  const recordsPerContact = new Map<string, number>();
  simulator.on('object', (o) => {
    if (o.kind !== 'ctr-object') return;
    for (const id of o.contactIds) recordsPerContact.set(id, (recordsPerContact.get(id) ?? 0) + 1);
    for (const id of new Set(o.contactIds)) {
      objectsPerContact.set(id, (objectsPerContact.get(id) ?? 0) + 1);
    }
  });
  const abort = new AbortController();
  const phasesMs: Record<string, number> = { setup: Date.now() - setupStarted };
  const runStarted = Date.now();
  const simDone = simulator.run(abort.signal).catch((err: unknown): RunSummary | undefined => {
    notes.push(`simulator stopped: ${(err as Error).message}`);
    return undefined;
  });

  // ----- periodic work: drain schedule, scraping, files
  const s3Client = peers.s3.client();
  let files: DeliveredFile[] = [];
  let quarantined: Array<{ key: string; bytes: number }> = [];
  const listFiles = async () => {
    if (sftp === undefined) return;
    try {
      files = await listDelivered(sftp.root, files);
      const out = await s3Client.send(
        new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'quarantine/' }),
      );
      quarantined = (out.Contents ?? []).map((o) => ({ key: o.Key ?? '', bytes: o.Size ?? 0 }));
    } catch {
      // the SFTP directory or bucket is busy; try again on the next tick
    }
  };
  const drain = async () => lambda?.drain();
  const drainEveryMs = Math.max(2000, Math.round((30 * 60_000) / speed));
  let draining: Promise<unknown> = Promise.resolve();
  const drainTimer = setInterval(() => {
    draining = draining.then(drain).then(listFiles);
  }, drainEveryMs);
  const scrapeTimer = setInterval(() => {
    if (wantRta) void rta.scrape();
    void listFiles();
  }, 2000);
  if (lambda !== undefined) {
    log(`historical Lambda: drain every ${drainEveryMs} ms (30 simulated minutes)`);
  }

  // ----- chaos
  const chaosTimers: NodeJS.Timeout[] = [];
  if (options.chaos) {
    const span =
      options.durationMs ??
      (options.simulatedSeconds === undefined
        ? 120_000
        : (options.simulatedSeconds * 1000) / speed);
    const at = (fraction: number, what: string, fn: () => Promise<void> | void) => {
      const run = async () => {
        log(`chaos: ${what}`);
        notes.push(`chaos at ${new Date().toISOString().slice(11, 19)}: ${what}`);
        try {
          await fn();
        } catch (err) {
          notes.push(`chaos "${what}" failed: ${(err as Error).message}`);
        }
      };
      chaosTimers.push(setTimeout(run, Math.round(span * fraction)));
    };
    at(0.2, 'RTA daemon killed with SIGKILL, restarted 3 s later', () => {
      rta.crash();
      chaosTimers.push(setTimeout(() => rta.start(), 3000));
    });
    const outage = options.outageMs ?? 15_000;
    at(0.35, `WFM outage (HTTP 500) for ${outage / 1000} s`, () => receiver.failFor(outage));
    at(0.5, `${sftp?.kind ?? 'SFTP'} server restart`, async () => sftp?.restart());
    at(0.65, 'shard split', async () => {
      const shards = await peers.kinesis.listShards(STREAM);
      const open = shards.find((s) => s.SequenceNumberRange?.EndingSequenceNumber === undefined);
      if (open?.ShardId) await peers.kinesis.splitShard(STREAM, open.ShardId);
    });
  }

  // ----- dashboard
  const state = async (): Promise<DashboardState> => {
    const agentsView = tracker.agents(receiver);
    const m = rta.metrics;
    const get = (k: string) => m.get(k) ?? null;
    return {
      now: new Date().toISOString(),
      simulatedNow: new Date(sim.now).toISOString(),
      agents: agentsView,
      mismatches: agentsView.filter((a) => a.mismatch).length,
      ...tracker.figures(),
      contacts: sim.stats.contacts,
      shardLagMs: get('rta_shard_millis_behind_latest'),
      daemon: wantRta
        ? {
            running: rta.running,
            leader: get('rta_lease_leader') === 1,
            'lease TTL (ms)': 6000,
            'checkpoint age (s)': get('rta_checkpoint_age_seconds'),
            'caught up': get('rta_caught_up') === 1,
            'states posted': get('rta_states_posted_total'),
            'WFM errors': get('rta_wfm_errors_total'),
            restarts: rta.exits,
          }
        : { running: false },
      files,
      quarantined,
      notes: [...notes],
    };
  };
  const dashboard = await startDashboard({ port: options.port ?? 0, state, log });

  // ----- stop and verify
  const allAgree = () => {
    const view = receiver.states();
    return sim
      .agentTruth()
      .every((a) =>
        statesAgree(view.get(a.username)?.stateCode ?? null, a.state.stateCode, a.state.loggedOut),
      );
  };
  let stopping: Promise<VerificationSummary> | undefined;
  const stop = (): Promise<VerificationSummary> => {
    stopping ??= (async () => {
      log('stopping: the simulator writes what it buffered, then the feeds catch up');
      const phase = (name: string, since: number) => {
        phasesMs[name] = Date.now() - since;
        log(`${name}: ${phasesMs[name]} ms`);
      };
      let t = Date.now();
      for (const timer of chaosTimers) clearTimeout(timer);
      abort.abort();
      const simulation = await simDone;
      phase('simulation', runStarted);
      t = Date.now();
      if (wantRta) {
        if (!rta.running) rta.start();
        // let the daemon catch up (bounded: 60 s)
        for (let i = 0; i < 120 && !allAgree(); i++) await new Promise((r) => setTimeout(r, 500));
      }
      phase('rtaCatchUp', t);
      t = Date.now();
      clearInterval(drainTimer);
      await draining;
      phase('drainsInFlight', t);
      t = Date.now();
      await drain();
      await listFiles();
      phase('finalDrain', t);
      clearInterval(scrapeTimer);
      if (wantRta && !allAgree()) {
        await rta.scrape();
        const m = rta.metrics;
        notes.push(
          `RTA daemon at the end: caught up ${m.get('rta_caught_up') ?? '-'}, states posted ${m.get('rta_states_posted_total') ?? '-'}, events read ${m.get('rta_events_read_total') ?? '-'}; last log lines: ${rta.log.slice(-4).join(' | ').slice(0, 1500)}`,
        );
      }
      const figures = tracker.figures();
      const verified = await verify({
        sim,
        receiver,
        sftpRoot: sftp?.root,
        files,
        quarantinedObjects: quarantined.length,
        latency: figures.latency,
        notes,
        simulation,
        statistics: lambda === undefined ? 'none' : statistics,
        objectsPerContact,
        recordsPerContact,
      });
      const summary: VerificationSummary = { ...verified, phasesMs };
      await dashboard.stop();
      destroySimulatorClients();
      s3Client.destroy();
      lambda?.stop();
      await rta.stop();
      await peers.stop();
      await rm(work, { recursive: true, force: true });
      return summary;
    })();
    return stopping;
  };
  const done =
    options.durationMs === undefined
      ? simDone.then(() => stop())
      : new Promise<VerificationSummary>((resolve) => {
          const t = setTimeout(() => resolve(stop()), options.durationMs);
          void simDone.then(() => {
            clearTimeout(t);
            resolve(stop());
          });
        });
  const injectWfmState = async (userCode: string, stateCode: string): Promise<void> => {
    const res = await fetch(`${receiver.url}/Rta/State/Batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        AuthenticationKey: peers.authKey,
        SourceId: '1',
        IsSnapshot: false,
        States: [{ UserCode: userCode, StateCode: stateCode, StateDescription: stateCode }],
      }),
    });
    if (!res.ok) throw new Error(`the WFM answered ${res.status} to the injected state`);
    await receiver.settled();
  };
  log(`dashboard: ${dashboard.url}`);
  return { url: dashboard.url, receiver, sftp: sftp?.kind, state, injectWfmState, stop, done };
}
