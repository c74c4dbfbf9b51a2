import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { createGzip } from 'node:zlib';
import { ctr, REPO_ROOT } from './helpers.js';

const here = dirname(fileURLToPath(import.meta.url));
const CLI = join(here, '..', '..', 'src', 'cli.ts');
const RSS_PROBE = join(here, '..', 'fixtures', 'rss-probe.mjs');

interface Run {
  code: number | null;
  stdoutBytes: number;
  stderr: string;
  /** Peak resident set size of the CLI process, in MiB. */
  peakRssMb: number;
}

/** Runs the CLI with the RSS probe preloaded; stdout is counted, not kept. */
function runCli(dir: string, name: string, args: string[]): Promise<Run> {
  const rssFile = join(dir, `${name}.rss`);
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--import', RSS_PROBE, CLI, ...args],
      {
        env: {
          ...process.env,
          TSX_TSCONFIG_PATH: join(REPO_ROOT, 'tsconfig.json'),
          CTR_RSS_OUT: rssFile,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdoutBytes = 0;
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => {
      stdoutBytes += d.length;
    });
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code) => {
      readFile(rssFile, 'utf8').then(
        (kb) =>
          resolve({
            code,
            stdoutBytes,
            stderr: Buffer.concat(err).toString('utf8'),
            peakRssMb: Number(kb) / 1024,
          }),
        () =>
          resolve({
            code,
            stdoutBytes,
            stderr: Buffer.concat(err).toString('utf8'),
            peakRssMb: -1,
          }),
      );
    });
  });
}

/** Writes `blocks` times 65536 copies of `unit` to a file (or GZIP-compressed), streamed. */
async function repeated(path: string, unit: string, blocks: number, gzip = false): Promise<void> {
  const block = Buffer.from(unit.repeat(65536));
  async function* source(): AsyncGenerator<Buffer> {
    for (let i = 0; i < blocks; i++) yield block;
  }
  if (gzip) await pipeline(source(), createGzip({ level: 9 }), createWriteStream(path));
  else await pipeline(source(), createWriteStream(path));
}

describe('ctr-csv CLI: hostile input costs bounded memory and bounded output (issue 19)', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ctr-cli-hard-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps memory and standard error bounded whatever the number of bad records, and exits 2', async () => {
    // 1 M and 10 M non-CTR objects (2 MB and 20 MB), and a GZIP bomb of 10 M more (20 KB).
    await repeated(join(dir, 'small.json'), '{}', 16);
    await repeated(join(dir, 'large.json'), '{}', 160);
    await repeated(join(dir, 'bomb.json.gz'), '{}', 160, true);
    const count = 160 * 65536;
    const good = JSON.stringify(ctr('g1'));
    await writeFile(join(dir, 'good.json'), good);
    const [small, large, bomb] = await Promise.all([
      runCli(dir, 'small', [join(dir, 'small.json')]),
      runCli(dir, 'large', [join(dir, 'large.json'), join(dir, 'good.json')]),
      runCli(dir, 'bomb', [join(dir, 'bomb.json.gz')]),
    ]);
    for (const run of [small, large, bomb] as Run[]) {
      expect(run.code).toBe(2);
      // The first 100 listed, then counts per reason: a few KB, not 100 MB.
      expect(run.stderr.length).toBeLessThan(32 * 1024);
      expect(run.peakRssMb).toBeGreaterThan(0);
      expect(run.peakRssMb).toBeLessThan(400);
    }
    expect(large?.stderr).toContain(`1 good record(s) converted, ${count} bad record(s) left out:`);
    expect(large?.stderr).toContain(`… and ${count - 100} more bad record(s), not listed:`);
    expect(large?.stderr).toContain(`    not-a-ctr: ${count - 100} (${2 * (count - 100)} bytes)`);
    expect(large?.stdoutBytes).toBeGreaterThan(0);
    expect(bomb?.stderr).toContain(`${count} bad record(s) left out:`);
    // Ten times the bad records: memory does not follow (the old CLI grew by ~450 MB per MB).
    expect((large?.peakRssMb ?? 0) - (small?.peakRssMb ?? 0)).toBeLessThan(100);
    expect((bomb?.peakRssMb ?? 0) - (small?.peakRssMb ?? 0)).toBeLessThan(100);
  }, 600_000);

  it('escapes control characters of file names and parse errors on standard error', async () => {
    const name = join(dir, 'evil\x1b[2J\x1b]0;title\x07\u009b31m.json');
    await writeFile(name, `${JSON.stringify(ctr('a'))}{"x":"\x1b[31mred"\x1b}`);
    const run = await runCli(dir, 'evil', [name]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('evil\\x1b[2J\\x1b]0;title\\x07\\x9b31m.json');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: asserting there are none
    expect(run.stderr).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    const missing = await runCli(dir, 'evil-missing', [join(dir, 'no\x1b[2Jfile.json')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no\\x1b[2Jfile.json');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: asserting there are none
    expect(missing.stderr).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
  }, 300_000);

  it('names the missing directory when -o points into one, and leaves nothing behind', async () => {
    await writeFile(join(dir, 'one.json'), JSON.stringify(ctr('a')));
    const target = join(dir, 'no-such-dir', 'out.csv');
    const run = await runCli(dir, 'missing-dir', ['-o', target, join(dir, 'one.json')]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `the directory ${JSON.stringify(join(dir, 'no-such-dir'))} does not exist`,
    );
    expect(run.stderr).not.toContain('.tmp');
  }, 300_000);

  it('refuses a 200 MB input to --format agent-performance in bounded memory, with a short message', async () => {
    // A one-line 200 MB "report" (what a CTR file given by mistake looks like).
    await repeated(join(dir, 'huge.csv'), 'x', 3200);
    const run = await runCli(dir, 'huge', ['--format', 'agent-performance', join(dir, 'huge.csv')]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('is larger than 33554432 bytes (maxReportBytes)');
    expect(run.stderr.length).toBeLessThan(4096);
    expect(run.peakRssMb).toBeGreaterThan(0);
    expect(run.peakRssMb).toBeLessThan(400);
    expect(run.stdoutBytes).toBe(0);
    await rm(join(dir, 'huge.csv'));
    // A small non-report input: the header error lists the headers, cut short.
    await writeFile(join(dir, 'wide.csv'), `${'h'.repeat(100_000)},${'k,'.repeat(5000)}\n`);
    const wide = await runCli(dir, 'wide', ['-f', 'agent-performance', join(dir, 'wide.csv')]);
    expect(wide.code).toBe(1);
    expect(wide.stderr).toContain('missing column(s)');
    expect(wide.stderr).toContain('and 4952 more');
    expect(wide.stderr.length).toBeLessThan(8192);
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  }, 300_000);
});
