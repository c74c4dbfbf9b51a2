import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileCheckpointStore } from '@connect-wfm/checkpoint-store';
import { seededRandom } from '@connect-wfm/testkit';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '../../../..');
const writer = join(here, '../fixtures/file-writer.ts');
const SHARD = 'shardId-000000000000';
// a realistic 56-digit Kinesis sequence number, far beyond Number.MAX_SAFE_INTEGER
const BASE = 49590338271490256608559692538361571095921575989136588898n;

interface Writer {
  child: ChildProcess;
  /** Highest sequence number the child reported as acknowledged. */
  lastAck: () => bigint | undefined;
  /** Resolves after the first acknowledged write. */
  started: Promise<void>;
  exited: Promise<number | null>;
  /** Starts a writer spawned with start `'stdin'` from `value`. */
  go: (value: bigint) => void;
}

function startWriter(
  path: string,
  shardId: string,
  start: bigint | 'stdin',
  count?: number,
): Writer {
  const args = ['--import', 'tsx', writer, path, shardId, start.toString()];
  if (count !== undefined) args.push(String(count));
  const child = spawn(process.execPath, args, {
    env: { ...process.env, TSX_TSCONFIG_PATH: join(repoRoot, 'tsconfig.json') },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let last: bigint | undefined;
  let buffered = '';
  let stderr = '';
  let markStarted: () => void = () => {};
  const started = new Promise<void>((r) => {
    markStarted = r;
  });
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      if (line.startsWith('ack ')) {
        last = BigInt(line.slice(4));
        markStarted();
      }
    }
  });
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolveExit, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      if (code !== null && code !== 0) reject(new Error(`writer exited with ${code}: ${stderr}`));
      else resolveExit(code);
    });
  });
  // a writer that dies before its first write must fail the test, not hang it
  exited.then(markStarted, markStarted);
  return {
    child,
    lastAck: () => last,
    started,
    exited,
    go: (value) => {
      child.stdin?.write(`${value}\n`);
    },
  };
}

describe('FileCheckpointStore under crashes', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cps-crash-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('leaves a readable checkpoint that never regresses when the writer is killed with SIGKILL', async () => {
    const path = join(dir, 'checkpoints.json');
    const rand = seededRandom(20240607);
    let previous = BASE;
    let progressed = 0;
    // the next writer loads (node + tsx) while the current one runs, so rounds stay short
    let next = startWriter(path, SHARD, 'stdin');
    try {
      for (let round = 0; round < 15; round++) {
        const w = next;
        w.go(previous);
        next = startWriter(path, SHARD, 'stdin');
        await w.started;
        await new Promise((r) => setTimeout(r, 5 + Math.floor(rand() * 46)));
        w.child.kill('SIGKILL');
        await w.exited;

        const reader = new FileCheckpointStore({
          application: 'kill-test',
          stream: 'agents',
          path,
        });
        const cp = await reader.get(SHARD);
        await reader.close();
        expect(cp?.sequenceNumber).toMatch(/^[0-9]+$/);
        const value = BigInt(cp?.sequenceNumber ?? '0');
        expect(value).toBeGreaterThanOrEqual(previous);
        // every write the child saw acknowledged is on disk
        expect(value).toBeGreaterThanOrEqual(w.lastAck() ?? previous);
        if (value > previous) progressed++;
        previous = value;
      }
    } finally {
      next.child.kill('SIGKILL');
      await next.exited;
    }
    expect(progressed).toBeGreaterThanOrEqual(10);
    // 15 rounds each start a node + tsx process: generous for a machine shared by many jobs
  }, 300_000);

  it('loses no update when two processes write the same file at once', async () => {
    const path = join(dir, 'checkpoints.json');
    const a = startWriter(path, 'shardId-000000000001', 1000n, 150);
    const b = startWriter(path, 'shardId-000000000002', 5000n, 150);
    await Promise.all([a.exited, b.exited]);
    const store = new FileCheckpointStore({ application: 'kill-test', stream: 'agents', path });
    const all = await store.getAll();
    expect(all.get('shardId-000000000001')?.sequenceNumber).toBe('1150');
    expect(all.get('shardId-000000000002')?.sequenceNumber).toBe('5150');
  }, 30_000);
});
