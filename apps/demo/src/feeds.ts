/**
 * The two feeds of the demo, each the real app in a child process: the historical Lambda (hosted
 * as the Lambda runtime would, its `drain` handler invoked over IPC) and the RTA daemon (its own
 * bin), plus the simulator writing into the peers.
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  ConnectSimulator,
  defaultStart,
  KinesisAgentEventSink,
  kmsEnvelopeEncryptor,
  S3ObjectSink,
} from '@connect-wfm/connect-simulator';
import { BUCKET, type DemoPeers, QUEUE, SFTP_SECRET_ID, STREAM } from './peers.js';

export const ROOT = join(import.meta.dirname, '..', '..', '..');
const TSCONFIG = join(ROOT, 'tsconfig.json');

/** Which interval statistics partials the Lambda writes (its `STATS_OUTPUTS`). */
export type StatisticsOutputs = 'none' | 'queue' | 'agent-queue' | 'both';

/** The historical Lambda in a child process. */
export interface LambdaHost {
  /** Runs the `drain` handler once and resolves with its result (`undefined` when not running). */
  drain(): Promise<unknown>;
  stop(): void;
}

/**
 * Starts apps/historical-lambda in a child process wired to the peers; `undefined` (with a note)
 * when it cannot start.
 *
 * @example
 * const lambda = await startLambdaHost(peers, { statistics: 'both', notes });
 * await lambda?.drain();
 */
export async function startLambdaHost(
  peers: DemoPeers,
  options: { readonly statistics: StatisticsOutputs; readonly notes: string[] },
): Promise<LambdaHost | undefined> {
  const { s3, sqs, kms, sftp, moto } = peers;
  if (sftp === undefined || moto === undefined) return undefined;
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    TSX_TSCONFIG_PATH: TSCONFIG,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
    AWS_ENDPOINT_URL_S3: s3.endpoint,
    AWS_ENDPOINT_URL_SQS: sqs.endpoint,
    AWS_ENDPOINT_URL_KMS: kms.endpoint,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: moto.endpoint,
    S3_FORCE_PATH_STYLE: 'true',
    SFTP_HOST: sftp.host,
    SFTP_PORT: String(sftp.port),
    SFTP_USERNAME: sftp.username,
    SFTP_HOST_KEY: sftp.hostKeySha256,
    SFTP_REMOTE_DIR: sftp.remoteDir,
    SFTP_SECRET_ID,
    QUEUE_URL: sqs.queueUrl(QUEUE),
    CTR_PREFIX: 'ctr/',
    REPORT_PREFIX: 'reports/',
    QUARANTINE_PREFIX: 'quarantine/',
    STATS_OUTPUTS: options.statistics,
    DRAIN_RESERVE_MS: '2000',
    LOG_LEVEL: 'WARN',
  };
  const child: ChildProcess = fork(
    join(import.meta.dirname, 'lambda-host.ts'),
    [join(ROOT, 'apps/historical-lambda/src/index.ts')],
    { env, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] },
  );
  // read its log (a pipe nobody reads blocks the child once full); the last lines go into notes
  const stderr: string[] = [];
  child.stderr?.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) if (line.trim() !== '') stderr.push(line);
    while (stderr.length > 20) stderr.shift();
  });
  let invokeId = 0;
  const pending = new Map<number, (r: { result?: unknown; error?: string }) => void>();
  const initError = await new Promise<string | undefined>((resolve) => {
    child.on('message', (raw: unknown) => {
      const msg = raw as { type: string; id?: number; initError?: string; error?: string };
      if (msg.type === 'ready') resolve(msg.initError);
      if (msg.type === 'result' && msg.id !== undefined) {
        pending.get(msg.id)?.(msg);
        pending.delete(msg.id);
      }
    });
    child.on('exit', () => {
      resolve('exited');
      for (const done of pending.values()) done({ error: 'the Lambda host exited' });
      pending.clear();
    });
  });
  if (initError !== undefined) {
    options.notes.push(`historical Lambda did not start: ${initError}`);
    child.kill('SIGKILL');
    return undefined;
  }
  return {
    async drain() {
      if (child.exitCode !== null) return undefined;
      const id = ++invokeId;
      const done = new Promise<{ result?: unknown; error?: string }>((resolve) =>
        pending.set(id, resolve),
      );
      child.send({ type: 'invoke', id, handler: 'drain', event: {}, timeoutMs: 120_000 });
      const out = await done;
      if (out.error !== undefined) {
        options.notes.push(
          `drain failed: ${out.error}; last log lines: ${stderr.slice(-4).join(' | ').slice(0, 1500)}`,
        );
      }
      return out.result;
    },
    stop() {
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

/** Prometheus text → the largest value per metric name (e.g. the most lagging shard). */
export function parseMetrics(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m === null) continue;
    const name = m[1] as string;
    const v = Number(m[3]);
    if (!Number.isFinite(v)) continue;
    values.set(name, Math.max(values.get(name) ?? Number.NEGATIVE_INFINITY, v));
  }
  return values;
}

/** apps/rta-service's bin as a child process, restartable after a kill. */
export class RtaDaemonProcess {
  /** Whether apps/rta-service is in this checkout. */
  static readonly available = existsSync(join(ROOT, 'apps/rta-service/src/bin.ts'));
  /** How many times the daemon process ended. */
  exits = 0;
  /** The daemon's latest metrics (empty when it did not answer). */
  metrics = new Map<string, number>();
  /** Its last 50 log lines. */
  readonly log: string[] = [];
  #child: ChildProcess | undefined;

  /**
   * @example
   * const rta = new RtaDaemonProcess(peers, { workDir, httpPort, speed: 60 });
   * rta.start();
   */
  constructor(
    private readonly peers: DemoPeers,
    private readonly options: {
      readonly workDir: string;
      readonly httpPort: number;
      readonly speed: number;
    },
  ) {}

  /** The daemon's pid while it runs. */
  get pid(): number | undefined {
    return this.running ? this.#child?.pid : undefined;
  }

  get running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && !this.#child.signalCode;
  }

  start(): void {
    const { kinesis, receiver, authKey } = this.peers;
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'apps/rta-service/src/bin.ts')],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          TSX_TSCONFIG_PATH: TSCONFIG,
          AWS_REGION: kinesis.region,
          AWS_ACCESS_KEY_ID: kinesis.credentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: kinesis.credentials.secretAccessKey,
          RTA_STREAM: STREAM,
          RTA_KINESIS_ENDPOINT: kinesis.endpoint,
          RTA_WFM_URL: receiver.url,
          RTA_AUTH_KEY: authKey,
          RTA_SOURCE_ID: '1',
          RTA_POLL_MS: '1000',
          RTA_CHECKPOINT_INTERVAL_MS: String(
            Math.max(2000, Math.round(600_000 / this.options.speed)),
          ),
          RTA_STORE: `file:${join(this.options.workDir, 'rta-store')}`,
          RTA_LEASE_TTL_MS: '6000',
          RTA_HTTP_PORT: String(this.options.httpPort),
          RTA_LOG_LEVEL: 'warn',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const keep = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) if (line.trim() !== '') this.log.push(line);
      while (this.log.length > 50) this.log.shift();
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.on('exit', () => {
      this.exits++;
    });
    this.#child = child;
  }

  /** `kill -9`, as a crash would. */
  crash(): void {
    this.#child?.kill('SIGKILL');
  }

  /** Reads its `/metrics` into {@link RtaDaemonProcess.metrics}. */
  async scrape(): Promise<void> {
    try {
      const res = await fetch(`http://127.0.0.1:${this.options.httpPort}/metrics`, {
        signal: AbortSignal.timeout(1500),
      });
      this.metrics = parseMetrics(await res.text());
    } catch {
      this.metrics = new Map();
    }
  }

  /** SIGTERM (it checkpoints and releases its lease), SIGKILL after 8 s. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (child === undefined || child.exitCode !== null || child.signalCode) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 8000)))]);
    clearTimeout(timer);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}

/**
 * The simulator writing agent events to kinesalite and gzip + client-side encrypted CTR objects
 * and reports to s3rver; `destroy()` closes its SDK clients once it has stopped.
 *
 * @example
 * const { simulator, destroy } = createSimulator(peers, { agents: 40, speed: 60 });
 */
export function createSimulator(
  peers: DemoPeers,
  options: {
    readonly agents: number;
    readonly speed: number;
    readonly seed?: number | undefined;
    readonly start?: Date | undefined;
    readonly simulatedSeconds?: number | undefined;
    readonly faults?:
      | { duplicate?: number; reorder?: number; malformed?: number; lateUpdate?: number }
      | undefined;
  },
): { simulator: ConnectSimulator; destroy(): void } {
  const kinesis = peers.kinesis.client();
  const s3 = peers.s3.client();
  const kms = peers.kms.client();
  const simulator = new ConnectSimulator({
    seed: options.seed ?? 1,
    agents: options.agents,
    speed: options.speed,
    start: options.start ?? defaultStart(),
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
      new KinesisAgentEventSink({ client: kinesis, stream: STREAM }),
      new S3ObjectSink({
        client: s3,
        bucket: BUCKET,
        encryptor: kmsEnvelopeEncryptor({ kms, keyId: 'alias/ctr' }),
      }),
    ],
  });
  return {
    simulator,
    destroy() {
      kinesis.destroy();
      s3.destroy();
      kms.destroy();
    },
  };
}
