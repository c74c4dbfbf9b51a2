import { type ChildProcess, spawn } from 'node:child_process';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { freePort, waitFor } from './ports.js';

/** Options for {@link startMoto}. */
export interface MotoOptions {
  /**
   * Command that runs moto's server; `--host`/`--port` are appended. The default is
   * `python3 -m moto.server`, which works wherever `moto[server]` is installed for python3.
   * @default ['python3', '-m', 'moto.server']
   */
  command?: readonly string[];
  /**
   * Region the clients are configured with.
   * @default 'us-east-1'
   */
  region?: string;
  /**
   * How long to wait for the server to answer, in milliseconds.
   * @default 30000
   */
  startTimeoutMs?: number;
  /** Called with every line moto writes (its request log goes to stderr). */
  onLog?: (line: string) => void;
}

/** A running moto server: one endpoint for every AWS service moto implements. */
export interface MotoServer {
  /** `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  /** Region for clients. */
  readonly region: string;
  /** Dummy credentials (moto accepts any). */
  readonly credentials: { accessKeyId: string; secretAccessKey: string };
  /** The account id moto uses in ARNs and queue URLs. */
  readonly accountId: string;
  /** Process id of the server. */
  readonly pid: number | undefined;
  /** Clears every resource (moto's `/moto-api/reset`). */
  reset(): Promise<void>;
  /**
   * Creates a Secrets Manager secret holding `value` (a string secret, e.g. JSON) through a real
   * SDK client against this server, and resolves to its ARN.
   *
   * @example
   * const arn = await moto.createSecret('wfm/sftp', JSON.stringify({ password: 'pw' }));
   */
  createSecret(name: string, value: string): Promise<string>;
  /** Stops the server (SIGTERM, then SIGKILL after 5 s). Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts moto's server (a second, independently written implementation of AWS APIs: Secrets
 * Manager, SSM, SQS, KMS, S3...) on 127.0.0.1 with a port chosen at run time, and waits until it
 * answers.
 *
 * @example
 * const moto = await startMoto();
 * const sm = new SecretsManagerClient({ endpoint: moto.endpoint, region: moto.region, credentials: moto.credentials });
 * await moto.stop();
 */
export async function startMoto(options: MotoOptions = {}): Promise<MotoServer> {
  const [cmd, ...args] = options.command ?? ['python3', '-m', 'moto.server'];
  if (cmd === undefined) throw new Error('startMoto: empty command');
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(cmd, [...args, '--host', '127.0.0.1', '--port', String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PYTHONUNBUFFERED: '1' },
  });
  let exited: string | undefined;
  const output: string[] = [];
  const onData = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line === '') continue;
      if (output.length < 50) output.push(line);
      options.onLog?.(line);
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exit = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = `exited with ${signal ?? code}`;
      resolve();
    });
  });
  child.once('error', (err) => {
    exited = `failed to start: ${err.message}`;
  });
  const ready = async (): Promise<boolean> => {
    if (exited !== undefined) return true;
    try {
      const res = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      return res.ok;
    } catch {
      return false;
    }
  };
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    if (exited === undefined) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exit;
      clearTimeout(timer);
    }
  };
  try {
    await waitFor(ready, `moto on ${endpoint}`, options.startTimeoutMs ?? 30_000, 200);
    if (exited !== undefined) throw new Error(`moto server ${exited}: ${output.join('\n')}`);
  } catch (err) {
    await stop();
    throw new Error(`moto server did not answer on ${endpoint}: ${(err as Error).message}`);
  }
  return {
    endpoint,
    region: options.region ?? 'us-east-1',
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    accountId: '123456789012',
    pid: child.pid,
    async reset() {
      const res = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
      await res.arrayBuffer();
    },
    async createSecret(name: string, value: string): Promise<string> {
      const sm = new SecretsManagerClient({
        endpoint,
        region: options.region ?? 'us-east-1',
        credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
      });
      try {
        const out = await sm.send(new CreateSecretCommand({ Name: name, SecretString: value }));
        if (out.ARN === undefined) throw new Error(`moto returned no ARN for secret ${name}`);
        return out.ARN;
      } finally {
        sm.destroy();
      }
    },
    stop,
  };
}
