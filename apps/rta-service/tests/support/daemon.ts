/**
 * Starts the daemon as a real child process (the production bundle), reads its JSON log lines,
 * and stops or kills it.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

const APP = join(import.meta.dirname, '..', '..');
export const BUNDLE = join(APP, 'dist', 'connect-wfm-rta.mjs');

async function newestSource(dir: string): Promise<number> {
  let newest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    const s = await stat(join(entry.parentPath, entry.name));
    newest = Math.max(newest, s.mtimeMs);
  }
  return newest;
}

/** Builds the production bundle (`node build.mjs`) when it is missing or older than the sources. */
export async function ensureBundle(): Promise<void> {
  const packages = join(APP, '..', '..', 'packages');
  let sources = await newestSource(join(APP, 'src'));
  for (const entry of await readdir(packages, { withFileTypes: true })) {
    if (!entry.isDirectory() || !existsSync(join(packages, entry.name, 'src'))) continue;
    sources = Math.max(sources, await newestSource(join(packages, entry.name, 'src')));
  }
  if (existsSync(BUNDLE) && statSync(BUNDLE).mtimeMs >= sources) return;
  const result = spawnSync(process.execPath, [join(APP, 'build.mjs')], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`bundle build failed: ${result.stderr}`);
}

export type LogLine = Record<string, unknown> & { msg?: string; level?: number };

/** A running daemon process. */
export class DaemonProcess {
  readonly lines: LogLine[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #waiters: { test: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];

  constructor(
    readonly child: ChildProcess,
    readonly name: string,
  ) {
    let buffer = '';
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      buffer += chunk;
      let nl = buffer.indexOf('\n');
      while (nl >= 0) {
        const text = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        nl = buffer.indexOf('\n');
        if (text.trim() === '') continue;
        let line: LogLine;
        try {
          line = JSON.parse(text) as LogLine;
        } catch {
          line = { msg: text, unparsed: true };
        }
        this.lines.push(line);
        if (process.env.RTA_TEST_ECHO) process.stderr.write(`[${name}] ${text}\n`);
        this.#waiters = this.#waiters.filter((w) => {
          if (!w.test(line)) return true;
          w.resolve(line);
          return false;
        });
      }
    });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => this.stderr.push(chunk));
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
    });
  }

  /** Resolves with the first log line (past or future) that passes `test`. */
  waitFor(
    test: (l: LogLine) => boolean,
    timeoutMs = 30_000,
    what = 'a log line',
  ): Promise<LogLine> {
    const found = this.lines.find(test);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w.resolve !== done);
        reject(
          new Error(
            `${this.name}: no ${what} within ${timeoutMs} ms; last lines:\n${this.lines
              .slice(-8)
              .map((l) => JSON.stringify(l))
              .join('\n')}\n${this.stderr.join('').slice(-2000)}`,
          ),
        );
      }, timeoutMs);
      const done = (l: LogLine) => {
        clearTimeout(timer);
        resolve(l);
      };
      this.#waiters.push({ test, resolve: done });
    });
  }

  /** Waits for a log line with this message. */
  waitForMsg(msg: string, timeoutMs = 30_000): Promise<LogLine> {
    return this.waitFor((l) => l.msg === msg, timeoutMs, `"${msg}"`);
  }

  /** The operator HTTP port (from the start line). */
  async httpPort(): Promise<number> {
    const start = await this.waitForMsg('connect-wfm-rta starting');
    return start.httpPort as number;
  }

  async get(path: string): Promise<{ status: number; body: string }> {
    const res = await fetch(`http://127.0.0.1:${await this.httpPort()}${path}`);
    return { status: res.status, body: await res.text() };
  }

  /** SIGTERM and wait for the exit. */
  async stop(timeoutMs = 30_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** kill -9 and wait for the exit. */
  async kill9(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }
}

/**
 * The memory settings the image and the systemd unit set (`runtime-env.json`): the tests run
 * the daemon as it is deployed.
 */
export const RUNTIME_ENV = JSON.parse(
  readFileSync(join(APP, 'runtime-env.json'), 'utf8'),
) as Record<string, string>;

/** Starts the bundle with this environment (nothing inherited but PATH and HOME). */
export function startDaemon(
  env: Record<string, string>,
  name = 'daemon',
  args: readonly string[] = [],
): DaemonProcess {
  const child = spawn(process.execPath, [BUNDLE, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...RUNTIME_ENV, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new DaemonProcess(child, name);
}

/** Runs the bundle to completion (for --help, --check-config, bad config). */
export async function runDaemon(
  env: Record<string, string>,
  args: readonly string[] = [],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BUNDLE, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...RUNTIME_ENV, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, stdout, stderr };
}
