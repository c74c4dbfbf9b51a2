import { type ChildProcess, execFile, fork } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
export const appDir = join(here, '..', '..');

/**
 * Builds the bundle and zip into `outdir` (the real build script); returns its JSON report.
 * `readable`: not minified, for CPU profiles.
 */
export async function buildBundle(
  outdir: string,
  readable = false,
): Promise<{ zip: string; zipBytes: number; bundleBytes: number; sha256: string }> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [join(appDir, 'scripts', 'build.mjs'), '--outdir', outdir, ...(readable ? ['--readable'] : [])],
    { cwd: appDir },
  );
  return JSON.parse(stdout.trim().split('\n').pop() ?? '{}');
}

export interface InvokeOptions {
  /** Invocation timeout (the context's deadline). @default 120000 */
  timeoutMs?: number;
  /** After this many calls, getRemainingTimeInMillis() returns 1 ms (time ran short). */
  fullCalls?: number;
}

export interface LambdaContainer {
  readonly initError: { name?: string; message?: string } | undefined;
  readonly initMs: number;
  invoke<T = unknown>(
    handler: 'handler' | 'drain',
    event: unknown,
    options?: InvokeOptions,
  ): Promise<T>;
  /** CPU time (user + system) the container's last invocation used, in milliseconds. */
  cpuMs(): number;
  /** Peak RSS of the container process in MB, as of its last invocation result. */
  peakRssMb(): number;
  /** Peaks of memoryUsage() components in MB during the last invocation (RUNNER_MEMORY_TRACE=1). */
  memory(): Record<string, number>;
  /** Everything the container wrote to stdout and stderr so far. */
  logs(): string;
  readonly child: ChildProcess;
  /** Kills the process (`graceful`: asks it to exit, so a CPU profile is written). */
  stop(graceful?: boolean): Promise<void>;
}

/** Starts one "container": a process that imports the bundle with `env` (cold start). */
export async function startContainer(
  bundle: string,
  env: Record<string, string>,
  execArgv: string[] = [],
): Promise<LambdaContainer> {
  const child = fork(join(here, 'runner.mjs'), [bundle], {
    env: { PATH: process.env.PATH ?? '', NODE_NO_WARNINGS: '1', ...env },
    execArgv,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let output = '';
  child.stdout?.on('data', (c: Buffer) => {
    output += c.toString('utf8');
  });
  child.stderr?.on('data', (c: Buffer) => {
    output += c.toString('utf8');
  });
  const pending = new Map<string, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let exited = false;
  let peak = 0;
  let cpuMs = 0;
  let memory: Record<string, number> = {};
  const ready = new Promise<{ initError?: { name?: string; message?: string }; initMs: number }>(
    (resolve, reject) => {
      child.on(
        'message',
        (
          m: {
            type: string;
            id?: string;
            result?: unknown;
            error?: { message?: string; name?: string };
          } & Record<string, unknown>,
        ) => {
          if (m.type === 'ready') resolve(m as never);
          if (m.type === 'result' && m.id !== undefined) {
            if (typeof m.peakRssMb === 'number') peak = m.peakRssMb;
            if (typeof m.cpuMs === 'number') cpuMs = m.cpuMs;
            if (m.memory !== undefined) memory = m.memory as Record<string, number>;
            const p = pending.get(m.id);
            pending.delete(m.id);
            if (m.error !== undefined) {
              const e = new Error(m.error.message);
              e.name = m.error.name ?? 'Error';
              p?.reject(e);
            } else p?.resolve(m.result);
          }
        },
      );
      child.once('exit', (code) => {
        exited = true;
        reject(new Error(`container exited (${code}) before init: ${output}`));
        for (const p of pending.values()) p.reject(new Error(`container exited (${code})`));
        pending.clear();
      });
    },
  );
  const info = await ready;
  let n = 0;
  return {
    initError: info.initError,
    initMs: info.initMs,
    child,
    logs: () => output,
    peakRssMb: () => peak,
    cpuMs: () => cpuMs,
    memory: () => memory,
    invoke<T>(handler: 'handler' | 'drain', event: unknown, options: InvokeOptions = {}) {
      const id = `req-${++n}`;
      return new Promise<T>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        child.send({
          type: 'invoke',
          id,
          handler,
          event,
          timeoutMs: options.timeoutMs ?? 120_000,
          fullCalls: options.fullCalls,
        });
      });
    },
    async stop(graceful = false) {
      if (exited) return;
      const gone = new Promise((r) => child.once('exit', r));
      // Graceful: the runner exits by itself, so `--cpu-prof` gets to write its profile.
      if (graceful) child.send({ type: 'exit' });
      else child.kill('SIGKILL');
      await gone;
    },
  };
}
