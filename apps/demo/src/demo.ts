/**
 * `npm run demo`: the embedded peers, the simulator, the RTA daemon and the historical Lambda on
 * one machine, with a live dashboard (static page + server-sent events) and a verification summary.
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  ConnectSimulator,
  defaultStart,
  KinesisAgentEventSink,
  kmsEnvelopeEncryptor,
  type RunSummary,
  S3ObjectSink,
} from '@connect-wfm/connect-simulator';
import {
  freePort,
  type KinesaliteServer,
  type KmsPeer,
  type MotoServer,
  type RtaReceiver,
  type S3Peer,
  type SqsPeer,
  type SshdServer,
  startKinesalite,
  startKms,
  startMoto,
  startRtaReceiver,
  startS3,
  startSqs,
  startSshd,
} from '@connect-wfm/testkit';
import { DASHBOARD_HTML } from './page.js';
import { type DashboardState, DemoTracker, statesAgree } from './tracker.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const BUCKET = 'connect-data';
const QUEUE = 'connect-data-events';
const STREAM = 'agent-events';

/** Options of {@link startDemo}. */
export interface DemoOptions {
  /** Agents. @default 40 */
  readonly agents?: number;
  /** Simulated seconds per real second. @default 60 */
  readonly speed?: number;
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

/** The verification summary printed at the end. */
export interface VerificationSummary {
  readonly agents: number;
  readonly agentsMatching: number;
  readonly mismatched: readonly string[];
  /** Agents for which the WFM applied states out of the truth's order (a state went backwards). */
  readonly regressions: readonly string[];
  readonly agentEvents: number;
  readonly contacts: number;
  readonly contactsDelivered: number;
  readonly csvRows: number;
  readonly files: number;
  readonly reportFiles: number;
  readonly injectedMalformedObjects: number;
  readonly quarantinedObjects: number;
  readonly latencyP50Ms: number | null;
  readonly latencyP99Ms: number | null;
  readonly notes: readonly string[];
  readonly simulation: RunSummary | undefined;
}

/** A running demo. */
export interface DemoHandle {
  /** Dashboard URL (`http://127.0.0.1:<port>/`). */
  readonly url: string;
  /** The WFM (RTA receiver), e.g. to inject a wrong state. */
  readonly receiver: RtaReceiver;
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

function parseMetrics(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m === null) continue;
    const name = m[1] as string;
    const v = Number(m[3]);
    if (!Number.isFinite(v)) continue;
    // keep the largest value of a labelled family (e.g. the most lagging shard)
    values.set(name, Math.max(values.get(name) ?? Number.NEGATIVE_INFINITY, v));
  }
  return values;
}

/** Minimal RFC 4180 line splitter for one CSV line without embedded newlines. */
function csvFields(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i <= line.length) {
    if (line[i] === '"') {
      let v = '';
      i++;
      while (i < line.length) {
        if (line[i] === '"' && line[i + 1] === '"') {
          v += '"';
          i += 2;
        } else if (line[i] === '"') {
          i++;
          break;
        } else v += line[i++];
      }
      out.push(v);
      i++;
    } else {
      const end = line.indexOf(',', i);
      const stop = end < 0 ? line.length : end;
      out.push(line.slice(i, stop));
      i = stop + 1;
    }
  }
  return out;
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
  const log = options.log ?? (() => {});
  const speed = options.speed ?? 60;
  const agents = options.agents ?? 40;
  const notes: string[] = [];
  const work = await mkdtemp(join(tmpdir(), 'connect-wfm-demo-'));
  const stops: Array<() => Promise<void>> = [];
  const authKey = randomBytes(18).toString('base64url');

  let kinesis: KinesaliteServer | undefined;
  let s3: S3Peer | undefined;
  let sqs: SqsPeer | undefined;
  let kms: KmsPeer | undefined;
  let receiver: RtaReceiver | undefined;
  let sshd: SshdServer | undefined;
  let moto: MotoServer | undefined;

  [kinesis, sqs, kms, receiver] = await Promise.all([
    startKinesalite({ childProcess: true }),
    startSqs({ queues: [QUEUE] }),
    startKms({ keys: ['ctr'] }),
    startRtaReceiver({ authenticationKey: authKey, sourceIds: ['1'] }),
  ]);
  const sqsPeer = sqs;
  s3 = await startS3({
    buckets: [BUCKET],
    onEvent: (e) => {
      const r = e.Records[0];
      if (r === undefined || !r.eventName.startsWith('ObjectCreated')) return;
      const key = decodeURIComponent(r.s3.object.key.replace(/\+/g, ' '));
      if (key.startsWith('ctr/') || key.startsWith('reports/')) {
        sqsPeer.enqueue(QUEUE, JSON.stringify(e));
      }
    },
  });
  stops.push(async () => {
    await Promise.all([kinesis?.stop(), s3?.stop(), sqs?.stop(), kms?.stop(), receiver?.stop()]);
  });
  await kinesis.createStream(STREAM, 2);
  log(
    `peers: kinesalite ${kinesis.endpoint}, s3rver ${s3.endpoint}, SQS ${sqs.endpoint}, KMS ${kms.endpoint}, WFM ${receiver.url}`,
  );

  const wantHistorical =
    (options.historical ?? true) && existsSync(join(ROOT, 'apps/historical-lambda/src/index.ts'));
  if (wantHistorical) {
    try {
      sshd = await startSshd();
      stops.push(async () => sshd?.stop());
      log(`SFTP: OpenSSH sshd on 127.0.0.1:${sshd.port}, files land in ${sshd.root}`);
    } catch (err) {
      notes.push(
        `SFTP server not started (${(err as Error).message.split('\n')[0]}): the historical feed is not wired.`,
      );
    }
    if (sshd !== undefined) {
      try {
        moto = await startMoto();
        stops.push(async () => moto?.stop());
      } catch (err) {
        notes.push(
          `moto (python3 -m moto.server) not available for the SFTP secret (${(err as Error).message.split('\n')[0]}): the historical feed is not wired.`,
        );
      }
    }
  } else {
    notes.push('apps/historical-lambda is not in this checkout: the historical feed is not wired.');
  }

  // ----- the historical Lambda, in a child process like a Lambda container
  let lambda: ChildProcess | undefined;
  let lambdaReady: Promise<string | undefined> = Promise.resolve('not started');
  let invokeId = 0;
  const pendingInvokes = new Map<number, (r: { result?: unknown; error?: string }) => void>();
  if (sshd !== undefined && moto !== undefined) {
    const sm = new SecretsManagerClient({
      endpoint: moto.endpoint,
      region: moto.region,
      credentials: moto.credentials,
    });
    await sm.send(
      new CreateSecretCommand({
        Name: 'wfm/sftp',
        SecretString: JSON.stringify({ password: sshd.password }),
      }),
    );
    sm.destroy();
    const env: Record<string, string> = {
      ...(process.env as Record<string, string>),
      TSX_TSCONFIG_PATH: join(ROOT, 'tsconfig.json'),
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      AWS_ENDPOINT_URL_SQS: sqs.endpoint,
      AWS_ENDPOINT_URL_KMS: kms.endpoint,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: moto.endpoint,
      S3_FORCE_PATH_STYLE: 'true',
      SFTP_HOST: sshd.host,
      SFTP_PORT: String(sshd.port),
      SFTP_USERNAME: sshd.username,
      SFTP_HOST_KEY: sshd.hostKeySha256,
      SFTP_REMOTE_DIR: sshd.root,
      SFTP_SECRET_ID: 'wfm/sftp',
      QUEUE_URL: sqs.queueUrl(QUEUE),
      CTR_PREFIX: 'ctr/',
      REPORT_PREFIX: 'reports/',
      QUARANTINE_PREFIX: 'quarantine/',
      DRAIN_RESERVE_MS: '2000',
      LOG_LEVEL: 'WARN',
    };
    lambda = fork(
      join(import.meta.dirname, 'lambda-host.ts'),
      [join(ROOT, 'apps/historical-lambda/src/index.ts')],
      {
        env,
        execArgv: ['--import', 'tsx'],
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      },
    );
    lambdaReady = new Promise((resolve) => {
      lambda?.on('message', (raw: unknown) => {
        const msg = raw as {
          type: string;
          id?: number;
          initError?: string;
          result?: unknown;
          error?: string;
        };
        if (msg.type === 'ready') resolve(msg.initError);
        if (msg.type === 'result' && msg.id !== undefined) {
          pendingInvokes.get(msg.id)?.(msg);
          pendingInvokes.delete(msg.id);
        }
      });
      lambda?.on('exit', () => resolve('exited'));
    });
    stops.push(async () => {
      if (lambda && lambda.exitCode === null) {
        lambda.kill('SIGKILL');
      }
    });
    const initError = await lambdaReady;
    if (initError !== undefined) {
      notes.push(`historical Lambda did not start: ${initError}`);
      lambda.kill('SIGKILL');
      lambda = undefined;
    }
  }
  const drain = async (): Promise<unknown> => {
    if (lambda === undefined || lambda.exitCode !== null) return undefined;
    const id = ++invokeId;
    const done = new Promise<{ result?: unknown; error?: string }>((resolve) =>
      pendingInvokes.set(id, resolve),
    );
    lambda.send({ type: 'invoke', id, handler: 'drain', event: {}, timeoutMs: 120_000 });
    const out = await done;
    if (out.error !== undefined) notes.push(`drain failed: ${out.error}`);
    return out.result;
  };

  // ----- the RTA daemon, its own bin in a child process
  const rtaBin = join(ROOT, 'apps/rta-service/src/bin.ts');
  const wantRta = (options.rta ?? true) && existsSync(rtaBin);
  const rtaPort = await freePort();
  let rta: ChildProcess | undefined;
  let rtaExits = 0;
  const rtaLog: string[] = [];
  const startRta = () => {
    if (!wantRta || kinesis === undefined || receiver === undefined) return;
    rta = spawn(process.execPath, ['--import', 'tsx', rtaBin], {
      cwd: ROOT,
      env: {
        ...process.env,
        TSX_TSCONFIG_PATH: join(ROOT, 'tsconfig.json'),
        AWS_REGION: kinesis.region,
        AWS_ACCESS_KEY_ID: kinesis.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: kinesis.credentials.secretAccessKey,
        RTA_STREAM: STREAM,
        RTA_KINESIS_ENDPOINT: kinesis.endpoint,
        RTA_WFM_URL: receiver.url,
        RTA_AUTH_KEY: authKey,
        RTA_SOURCE_ID: '1',
        RTA_POLL_MS: '1000',
        RTA_CHECKPOINT_INTERVAL_MS: String(Math.max(2000, Math.round(600_000 / speed))),
        RTA_STORE: `file:${join(work, 'rta-store')}`,
        RTA_LEASE_TTL_MS: '6000',
        RTA_HTTP_PORT: String(rtaPort),
        RTA_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) if (line.trim() !== '') rtaLog.push(line);
      while (rtaLog.length > 50) rtaLog.shift();
    };
    rta.stdout?.on('data', keep);
    rta.stderr?.on('data', keep);
    rta.on('exit', () => {
      rtaExits++;
    });
  };
  if (wantRta) {
    startRta();
    log(
      `RTA daemon: apps/rta-service (pid ${rta?.pid}), metrics http://127.0.0.1:${rtaPort}/metrics`,
    );
  } else notes.push('apps/rta-service is not in this checkout: the RTA feed is not wired.');
  stops.push(async () => {
    if (rta && rta.exitCode === null) {
      const exited = new Promise((r) => rta?.once('exit', r));
      rta.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 8000))]);
      if (rta.exitCode === null) rta.kill('SIGKILL');
    }
  });

  let daemonMetrics = new Map<string, number>();
  const scrape = async () => {
    if (!wantRta) return;
    try {
      const res = await fetch(`http://127.0.0.1:${rtaPort}/metrics`, {
        signal: AbortSignal.timeout(1500),
      });
      daemonMetrics = parseMetrics(await res.text());
    } catch {
      daemonMetrics = new Map();
    }
  };

  // ----- the simulator
  const s3Client = s3.client();
  const simulator = new ConnectSimulator({
    seed: options.seed ?? 1,
    agents,
    speed,
    start: defaultStart(),
    firehose: { prefix: 'ctr/', gzip: true, bufferSeconds: 300 },
    reportPrefix: 'reports/',
    ...(options.simulatedSeconds === undefined
      ? {}
      : { durationSeconds: options.simulatedSeconds }),
    faults: options.faults ?? {
      duplicate: 0.005,
      reorder: 0.005,
      malformed: 0.003,
      lateUpdate: 0.05,
    },
    sinks: [
      new KinesisAgentEventSink({ client: kinesis.client(), stream: STREAM }),
      new S3ObjectSink({
        client: s3Client,
        bucket: BUCKET,
        encryptor: kmsEnvelopeEncryptor({ kms: kms.client(), keyId: 'alias/ctr' }),
      }),
    ],
  });
  const tracker = new DemoTracker(simulator.simulation, receiver);
  simulator.on('agentEvents', (e) => tracker.onAgentEvents(e));
  const abort = new AbortController();
  const simDone = simulator.run(abort.signal).catch((err: unknown) => {
    notes.push(`simulator stopped: ${(err as Error).message}`);
    return undefined;
  });

  // ----- periodic work: drain schedule, scraping, files
  let files: Array<{ name: string; rows: number; bytes: number }> = [];
  let quarantined: Array<{ key: string; bytes: number }> = [];
  const listFiles = async () => {
    if (sshd === undefined) return;
    try {
      const names = (await readdir(sshd.root)).filter((n) => n.endsWith('.csv')).sort();
      const next: typeof files = [];
      for (const name of names) {
        const known = files.find((f) => f.name === name);
        if (known) {
          next.push(known);
          continue;
        }
        const text = await readFile(join(sshd.root, name), 'utf8');
        const lines = text.split('\n').filter((l) => l !== '').length;
        next.push({
          name,
          rows: Math.max(0, lines - 1),
          bytes: (await stat(join(sshd.root, name))).size,
        });
      }
      files = next;
      const out = await s3Client.send(
        new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'quarantine/' }),
      );
      quarantined = (out.Contents ?? []).map((o) => ({ key: o.Key ?? '', bytes: o.Size ?? 0 }));
    } catch {
      // the SFTP directory or bucket is busy; try again on the next tick
    }
  };
  const drainEveryMs = Math.max(2000, Math.round((30 * 60_000) / speed));
  let draining: Promise<unknown> = Promise.resolve();
  const drainTimer = setInterval(() => {
    draining = draining.then(drain).then(listFiles);
  }, drainEveryMs);
  const scrapeTimer = setInterval(() => {
    void scrape();
    void listFiles();
  }, 2000);
  if (wantHistorical && lambda !== undefined)
    log(`historical Lambda: drain every ${drainEveryMs} ms (30 simulated minutes)`);

  // ----- chaos
  const chaosTimers: NodeJS.Timeout[] = [];
  if (options.chaos) {
    const span =
      options.durationMs ??
      (options.simulatedSeconds === undefined
        ? 120_000
        : (options.simulatedSeconds * 1000) / speed);
    const at = (fraction: number, what: string, fn: () => Promise<void> | void) => {
      chaosTimers.push(
        setTimeout(
          async () => {
            log(`chaos: ${what}`);
            notes.push(`chaos at ${new Date().toISOString().slice(11, 19)}: ${what}`);
            try {
              await fn();
            } catch (err) {
              notes.push(`chaos "${what}" failed: ${(err as Error).message}`);
            }
          },
          Math.round(span * fraction),
        ),
      );
    };
    at(0.2, 'RTA daemon killed with SIGKILL, restarted 3 s later', () => {
      rta?.kill('SIGKILL');
      setTimeout(startRta, 3000);
    });
    const outage = options.outageMs ?? 15_000;
    at(0.35, `WFM outage (HTTP 500) for ${outage / 1000} s`, () => receiver?.failFor(outage));
    at(0.5, 'sshd restart', async () => sshd?.restart());
    at(0.65, 'shard split', async () => {
      const shards = (await kinesis?.listShards(STREAM)) ?? [];
      const open = shards.find((s) => s.SequenceNumberRange?.EndingSequenceNumber === undefined);
      if (open?.ShardId) await kinesis?.splitShard(STREAM, open.ShardId);
    });
  }

  // ----- dashboard
  const state = async (): Promise<DashboardState> => {
    const agentsView = tracker.agents(receiver as RtaReceiver);
    const m = daemonMetrics;
    const get = (k: string) => (m.has(k) ? (m.get(k) as number) : null);
    const lag = get('rta_shard_millis_behind_latest');
    return {
      now: new Date().toISOString(),
      simulatedNow: new Date(simulator.simulation.now).toISOString(),
      agents: agentsView,
      mismatches: agentsView.filter((a) => a.mismatch).length,
      ...tracker.figures(),
      contacts: simulator.simulation.stats.contacts,
      shardLagMs: lag,
      daemon: wantRta
        ? {
            running: rta !== undefined && rta.exitCode === null && rta.signalCode === null,
            leader: get('rta_lease_leader') === 1,
            'lease TTL (ms)': 6000,
            'checkpoint age (s)': get('rta_checkpoint_age_seconds'),
            'caught up': get('rta_caught_up') === 1,
            'states posted': get('rta_states_posted_total'),
            'WFM errors': get('rta_wfm_errors_total'),
            restarts: Math.max(0, rtaExits),
          }
        : { running: false },
      files,
      quarantined,
      notes: [...notes],
    };
  };
  const clients = new Set<ServerResponse>();
  const server: Server = createServer((req, res) => {
    if (req.url === '/' || req.url === '/index.html') {
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
      });
      res.end(DASHBOARD_HTML);
    } else if (req.url === '/events') {
      res.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-store',
        connection: 'keep-alive',
      });
      res.write('retry: 1000\n\n');
      clients.add(res);
      req.on('close', () => clients.delete(res));
    } else if (req.url === '/state') {
      void state().then((s) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(s));
      });
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const url = `http://127.0.0.1:${port}/`;
  const pushTimer = setInterval(async () => {
    if (clients.size === 0) return;
    const data = `event: state\ndata: ${JSON.stringify(await state())}\n\n`;
    for (const c of clients) c.write(data);
  }, 1000);
  let lastLine = 0;
  const lineTimer = setInterval(async () => {
    if (Date.now() - lastLine < 5000) return;
    lastLine = Date.now();
    const s = await state();
    log(
      `${s.simulatedNow.slice(11, 19)} sim | events ${s.eventsTotal} (${s.eventsPerSecond}/s) | contacts ${s.contacts} | mismatches ${s.mismatches}/${s.agents.length} | latency p50 ${s.latency.p50 ?? '-'} ms p99 ${s.latency.p99 ?? '-'} ms | files ${s.files.length} | quarantined ${s.quarantined.length}`,
    );
  }, 1000);

  // ----- stop and verify
  let stopping: Promise<VerificationSummary> | undefined;
  const stop = (): Promise<VerificationSummary> => {
    stopping ??= (async () => {
      log('stopping: the simulator writes what it buffered, then the feeds catch up');
      for (const t of chaosTimers) clearTimeout(t);
      abort.abort();
      const simulation = await simDone;
      // let the daemon catch up (bounded)
      if (wantRta && rta !== undefined) {
        if (rta.exitCode !== null || rta.signalCode !== null) startRta();
        for (let i = 0; i < 120; i++) {
          const view = receiver?.states() ?? new Map();
          const all = simulator.simulation
            .agentTruth()
            .every((a) =>
              statesAgree(
                view.get(a.username)?.stateCode ?? null,
                a.state.stateCode,
                a.state.loggedOut,
              ),
            );
          if (all) break;
          await new Promise((r) => setTimeout(r, 500));
        }
      }
      clearInterval(drainTimer);
      await draining;
      await drain();
      await listFiles();
      clearInterval(scrapeTimer);
      clearInterval(pushTimer);
      clearInterval(lineTimer);
      const view = receiver?.states() ?? new Map();
      const truth = simulator.simulation.agentTruth();
      const mismatched = truth
        .filter(
          (a) =>
            !statesAgree(
              view.get(a.username)?.stateCode ?? null,
              a.state.stateCode,
              a.state.loggedOut,
            ),
        )
        .map(
          (a) =>
            `${a.username}: WFM ${view.get(a.username)?.stateCode ?? '-'} vs truth ${a.state.stateCode}`,
        );
      if (mismatched.length > 0 && wantRta) {
        await scrape();
        notes.push(
          `RTA daemon at the end: caught up ${daemonMetrics.get('rta_caught_up') ?? '-'}, states posted ${daemonMetrics.get('rta_states_posted_total') ?? '-'}, events read ${daemonMetrics.get('rta_events_read_total') ?? '-'}; last log lines: ${rtaLog.slice(-4).join(' | ').slice(0, 1500)}`,
        );
      }
      const regressions: string[] = [];
      for (const a of truth) {
        // what the WFM applied must follow the truth's order (a subsequence of the timeline)
        const applied = (receiver as RtaReceiver).historyOf(a.username).map((h) => h.stateCode);
        const timeline = simulator.simulation.timeline(a.username);
        let j = -1; // -1: before the agent's first event (logged out)
        let ok = true;
        for (const code of applied) {
          const lo = code.toLowerCase();
          const loggedOut = lo === 'logged-off' || lo === 'ccc logged out';
          if (loggedOut && j === -1) continue;
          let k = Math.max(j, 0);
          while (
            k < timeline.length &&
            !(loggedOut
              ? timeline[k]?.loggedOut
              : (timeline[k]?.stateCode.toLowerCase() ?? '') === lo)
          ) {
            k++;
          }
          if (k >= timeline.length) {
            ok = false;
            break;
          }
          j = k;
        }
        if (!ok) regressions.push(`${a.username}: applied ${applied.join(' > ')}`);
      }
      const delivered = new Set<string>();
      let csvRows = 0;
      let reportFiles = 0;
      for (const f of files) {
        if (sshd === undefined) break;
        const text = await readFile(join(sshd.root, f.name), 'utf8');
        const lines = text.split('\n').filter((l) => l !== '');
        if (lines[0]?.startsWith('Agent_ARN,')) {
          for (const line of lines.slice(1)) {
            const id = csvFields(line)[6];
            if (id) delivered.add(id);
            csvRows++;
          }
        } else reportFiles++;
      }
      const contacts = simulator.simulation.contactTruth();
      const figures = tracker.figures();
      const injected = new Set(simulator.simulation.injectedMalformedCtrs().map((m) => m.key));
      const summary: VerificationSummary = {
        agents: truth.length,
        agentsMatching: truth.length - mismatched.length,
        mismatched,
        regressions,
        agentEvents: simulator.simulation.stats.agentEvents,
        contacts: contacts.length,
        contactsDelivered: contacts.filter((c) => delivered.has(c.contactId)).length,
        csvRows,
        files: files.length,
        reportFiles,
        injectedMalformedObjects: injected.size,
        quarantinedObjects: quarantined.length,
        latencyP50Ms: figures.latency.p50,
        latencyP99Ms: figures.latency.p99,
        notes: [...notes],
        simulation,
      };
      for (const c of clients) c.end();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      for (const s of stops.reverse()) await s().catch(() => {});
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
    const res = await fetch(`${(receiver as RtaReceiver).url}/Rta/State/Batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        AuthenticationKey: authKey,
        SourceId: '1',
        IsSnapshot: false,
        States: [{ UserCode: userCode, StateCode: stateCode, StateDescription: stateCode }],
      }),
    });
    if (!res.ok) throw new Error(`the WFM answered ${res.status} to the injected state`);
    await (receiver as RtaReceiver).settled();
  };
  log(`dashboard: ${url}`);
  return { url, receiver, state, injectWfmState, stop, done };
}
