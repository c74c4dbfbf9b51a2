import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CTR_CSV_HEADER } from '@connect-wfm/ctr-csv-mapper';
import { REPO_ROOT, sampleBytes } from './helpers.js';

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli.ts');

const shellQuote = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`;

/** Runs a command and collects its stdout and stderr; `script` gives the child a terminal. */
function run(
  file: string,
  args: string[],
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      env: { ...process.env, TSX_TSCONFIG_PATH: join(REPO_ROOT, 'tsconfig.json') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString('utf8');
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

describe('ctr-csv CLI progress', () => {
  let dir: string;
  let inputs: string[];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ctr-csv-progress-'));
    inputs = [join(dir, 'a.json'), join(dir, 'b.json')];
    for (const f of inputs) await writeFile(f, sampleBytes());
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('shows files, MB and records/s on a terminal when reading several files', async () => {
    const out = join(dir, 'tty.csv');
    const command = [process.execPath, '--import', 'tsx', CLI, '-o', out, ...inputs]
      .map(shellQuote)
      .join(' ');
    // util-linux `script` runs the command with its stdout and stderr on a pseudo-terminal.
    const res = await run('script', ['-q', '-e', '-c', command, '/dev/null']);

    expect(res.code).toBe(0);
    expect(res.out).toMatch(/ctr-csv: file [12]\/2, [\d.]+ MB, \d+ records\/s/);
    const csv = await readFile(out, 'utf8');
    expect(csv.startsWith(`${CTR_CSV_HEADER}\n`)).toBe(true);
    expect(csv.trimEnd().split('\n')).toHaveLength(1 + 6);
  });

  it('prints no progress when stderr is not a terminal', async () => {
    const res = await run(process.execPath, ['--import', 'tsx', CLI, ...inputs]);

    expect(res.code).toBe(0);
    expect(res.err).not.toMatch(/records\/s/);
    expect(res.out.startsWith(`${CTR_CSV_HEADER}\n`)).toBe(true);
    expect(res.out).not.toMatch(/records\/s/);
  });

  it('shows progress for standard input once it has read more than 16 MB', async () => {
    const big = join(dir, 'big.json');
    const sample = sampleBytes();
    await writeFile(
      big,
      Buffer.concat(Array.from({ length: Math.ceil((17 << 20) / sample.length) }, () => sample)),
    );
    const out = join(dir, 'stdin.csv');
    const command = `cat ${shellQuote(big)} | ${[
      process.execPath,
      '--import',
      'tsx',
      CLI,
      '-o',
      out,
      '-',
    ]
      .map(shellQuote)
      .join(' ')}`;
    const res = await run('script', ['-q', '-e', '-c', command, '/dev/null']);

    expect(res.code).toBe(0);
    expect(res.out).toMatch(/ctr-csv: file 1\/1, 1[6-9]\.\d MB, \d+ records\/s/);
    expect(res.out).not.toMatch(/ctr-csv: file 1\/1, (\d|1[0-5])\.\d MB/);
  });

  it('removes its temporary output file when interrupted', async () => {
    const out = join(dir, 'interrupted.csv');
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, '-o', out, '-'], {
      env: { ...process.env, TSX_TSCONFIG_PATH: join(REPO_ROOT, 'tsconfig.json') },
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    child.stdin.write(sampleBytes()); // stdin stays open: the run cannot finish by itself
    const exited = new Promise<number | null>((resolve) =>
      child.on('close', (code) => resolve(code)),
    );
    // Start-up (tsx compiling the CLI) can take many seconds on a loaded machine: wait up to 30 s.
    let temp: string | undefined;
    for (let i = 0; i < 600 && temp === undefined; i++) {
      temp = (await readdir(dir)).find(
        (n) => n.startsWith('.interrupted.csv.') && n.endsWith('.tmp'),
      );
      if (temp === undefined) await new Promise((r) => setTimeout(r, 50));
    }
    expect(temp).toBeDefined();
    child.kill('SIGTERM');
    expect(await exited).toBe(143);
    const left = await readdir(dir);
    expect(left.filter((n) => n.includes('interrupted'))).toEqual([]);
  });
});
