import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
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
});
