import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { CTR_CSV_HEADER } from '@connect-wfm/ctr-csv-mapper';
import Papa from 'papaparse';
import { ctr, REPO_ROOT, sampleBytes } from './helpers.js';

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli.ts');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI with `stdin` piped in, or with the directory `stdinDir` opened as its stdin. */
function runCli(args: string[], stdin?: Buffer, stdinDir?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const dirFd = stdinDir === undefined ? undefined : openSync(stdinDir, 'r');
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
      env: { ...process.env, TSX_TSCONFIG_PATH: join(REPO_ROOT, 'tsconfig.json') },
      stdio: [dirFd ?? 'pipe', 'pipe', 'pipe'],
    });
    if (dirFd !== undefined) closeSync(dirFd);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (d: Buffer) => out.push(d));
    child.stderr?.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({
        code,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      }),
    );
    child.stdin?.end(stdin ?? Buffer.alloc(0));
  });
}

function csvRows(text: string): string[][] {
  return Papa.parse<string[]>(text, { delimiter: ',', newline: '\n', skipEmptyLines: true }).data;
}

describe('ctr-csv CLI', () => {
  let dir: string;
  const runs: Record<string, Run> = {};
  const a = JSON.stringify(
    ctr('a', {
      LastUpdateTimestamp: '2026-11-24T09:00:00Z',
      Queue: { ARN: 'x/queue/q1', EnqueueTimestamp: '2026-11-24T08:01:00Z', Duration: 3 },
    }),
  );
  const aLater = JSON.stringify(
    ctr('a', {
      LastUpdateTimestamp: '2026-11-24T10:00:00Z',
      Queue: { ARN: 'x/queue/q1', EnqueueTimestamp: '2026-11-24T08:01:00Z', Duration: 30 },
    }),
  );
  const b = JSON.stringify(
    ctr('b', {
      Queue: { ARN: 'x/queue/q1', EnqueueTimestamp: '2026-11-24T08:40:00Z', Duration: 4 },
    }),
  );

  const truncated = '{"ContactId":"t","Queue":';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ctr-cli-'));
    const f = (name: string) => join(dir, name);
    await writeFile(f('sample.json'), sampleBytes());
    await writeFile(f('one.json.gz'), gzipSync(Buffer.from(`${a}\n${b}\n`)));
    await writeFile(f('two.json'), aLater);
    await writeFile(f('bad.json'), `${a}${truncated}${b}not json at all`);
    await writeFile(
      f('report.csv'),
      'Agent,Interval,Agent idle time,Non-Productive Time,Online time\nagent.x,2026-11-24T08:00:00Z,61,0,1801\n',
    );
    await writeFile(
      f('report15.csv'),
      'Agent,Interval,Agent idle time,Non-Productive Time,Online time\nagent.x,2026-11-24T08:15:00Z,1,2,900\n',
    );
    await writeFile(f('same.json'), sampleBytes());
    await writeFile(f('existing.csv'), 'old contents\n');
    await chmod(f('existing.csv'), 0o640);
    // Independent runs, started together to keep the suite fast.
    const scenarios: Record<string, [string[], Buffer?]> = {
      sample: [[f('sample.json')]],
      many: [['--arn', 'full', f('one.json.gz'), f('two.json')]],
      bad: [[f('sample.json'), f('bad.json')]],
      stats: [
        [
          '--format',
          'queue-stats',
          '--interval',
          '60',
          '--sla',
          '10',
          '--short-abandon',
          '2',
          f('one.json.gz'),
          f('two.json'),
        ],
      ],
      agentStats: [['-f', 'agent-queue-stats', f('sample.json')]],
      output: [['-o', f('out.csv'), f('sample.json')]],
      stdin: [['-'], sampleBytes()],
      report: [['--format', 'agent-performance', '--split-15', f('report.csv')]],
      help: [['--help']],
      unknownOption: [['--colour', f('sample.json')]],
      badInterval: [['--format', 'queue-stats', '--interval', '20', f('sample.json')]],
      misplacedOption: [['--sla', '10', f('sample.json')]],
      missingFile: [[f('nope.json')]],
      missingLater: [['-o', f('partial.csv'), f('sample.json'), f('nope.json')]],
      directory: [[dir]],
      stdinDirectory: [['-o', f('never.csv')]],
      fullDisk: [['-o', '/dev/full', f('sample.json')]],
      sameFile: [['-o', f('same.json'), f('sample.json'), f('same.json')]],
      replace: [['-o', f('existing.csv'), f('sample.json')]],
      report15: [['-f', 'agent-performance', '--report-interval', '15', f('report15.csv')]],
      report15Split: [
        ['-f', 'agent-performance', '--report-interval', '15', '--split-15', f('report15.csv')],
      ],
      reportOffGrid: [['-f', 'agent-performance', f('report15.csv')]],
      badReport: [['--format', 'agent-performance', f('sample.json')]],
    };
    const names = Object.keys(scenarios);
    const results = await Promise.all(
      names.map((n) =>
        n === 'stdinDirectory'
          ? runCli(scenarios[n]?.[0] as string[], undefined, dir)
          : runCli(...(scenarios[n] as [string[], Buffer?])),
      ),
    );
    names.forEach((n, i) => {
      runs[n] = results[i] as Run;
    });
    // Some 20 CLI processes start at once: on a shared, loaded machine that takes a while.
  }, 300_000);

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('converts a Firehose object to the raw CTR CSV on stdout and exits 0', () => {
    const run = runs.sample as Run;
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    const rows = csvRows(run.stdout);
    expect(rows[0]?.join(',')).toBe(CTR_CSV_HEADER);
    expect(rows.slice(1).map((r) => r[6])).toEqual([
      'c0000001-aaaa-4bbb-8ccc-000000000001',
      'c0000002-aaaa-4bbb-8ccc-000000000002',
      'c0000003-aaaa-4bbb-8ccc-000000000003',
    ]);
  });

  it('reads several files (GZIP or not) in order as one stream, with one header', () => {
    const run = runs.many as Run;
    expect(run.code).toBe(0);
    const rows = csvRows(run.stdout);
    expect(rows.filter((r) => r[0] === 'Agent_ARN')).toHaveLength(1);
    expect(rows.slice(1).map((r) => [r[6], r[9]])).toEqual([
      ['a', 'x/queue/q1'],
      ['b', 'x/queue/q1'],
      ['a', 'x/queue/q1'],
    ]);
  });

  it('exits 2 on bad records, still writes the good ones, and lists file and byte offset of each bad one', () => {
    const run = runs.bad as Run;
    expect(run.code).toBe(2);
    expect(
      csvRows(run.stdout)
        .slice(1)
        .map((r) => r[6]),
    ).toEqual([
      'c0000001-aaaa-4bbb-8ccc-000000000001',
      'c0000002-aaaa-4bbb-8ccc-000000000002',
      'c0000003-aaaa-4bbb-8ccc-000000000003',
      'a',
      'b',
    ]);
    expect(run.stderr).toContain('ctr-csv: 5 good record(s) converted, 2 bad record(s) left out:');
    expect(run.stderr).toContain(`${join(dir, 'bad.json')}: byte ${a.length} `);
    expect(run.stderr).toContain(`byte ${a.length + truncated.length + b.length} `);
    expect(run.stderr).toContain('"not json at all"');
  });

  it('computes queue statistics over all files with the interval and thresholds given', () => {
    const run = runs.stats as Run;
    expect(run.code).toBe(0);
    const [header, ...rows] = csvRows(run.stdout);
    expect(header?.[0]).toBe('interval_start');
    // ContactId "a" appears in both files: the later version (Duration 30) counts, once.
    expect(rows).toHaveLength(1);
    const row = Object.fromEntries((header ?? []).map((h, i) => [h, rows[0]?.[i]]));
    expect(row).toMatchObject({
      interval_start: '2026-11-24T08:00:00Z',
      interval_minutes: '60',
      queue_id: 'q1',
      aband_call_cnt: '2',
      queued_and_aband_call_dur: '34',
      aband_within_sl_cnt: '1',
      aband_short_call_cnt: '0',
    });
  });

  it('computes agent-queue statistics', () => {
    const run = runs.agentStats as Run;
    expect(run.code).toBe(0);
    expect(run.stdout.split('\n')[1]).toBe(
      '2023-05-02T08:00:00Z,15,9a9a9a9a-0000-4000-8000-000000000001,agent.alvarez,193,60,1,1',
    );
  });

  it('writes to -o FILE and nothing to stdout', async () => {
    const run = runs.output as Run;
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('');
    expect(await readFile(join(dir, 'out.csv'), 'utf8')).toBe((runs.sample as Run).stdout);
  });

  it('reads standard input for "-"', () => {
    expect(runs.stdin?.code).toBe(0);
    expect(runs.stdin?.stdout).toBe((runs.sample as Run).stdout);
  });

  it('maps the agent performance report, split into 15-minute rows', () => {
    const run = runs.report as Run;
    expect(run.code).toBe(0);
    expect(run.stdout.split('\n').slice(1, 3)).toEqual([
      '2026-11-24T08:00:00Z,15,agent.x,901,0,901,31,,,,,',
      '2026-11-24T08:15:00Z,15,agent.x,900,0,900,30,,,,,',
    ]);
  });

  it('documents every option in --help', () => {
    const run = runs.help as Run;
    expect(run.code).toBe(0);
    for (const opt of [
      '--format',
      '--interval',
      '--sla',
      '--short-abandon',
      '--arn',
      '--split-15',
      '--report-interval',
      '--output',
      '--help',
      'Exit status',
    ]) {
      expect(run.stdout).toContain(opt);
    }
  });

  it('exits 1 with a clear message on usage errors', () => {
    expect(runs.unknownOption?.code).toBe(1);
    expect(runs.unknownOption?.stderr).toMatch(/ctr-csv: .*--colour/);
    expect(runs.unknownOption?.stdout).toBe('');
    expect(runs.badInterval?.code).toBe(1);
    expect(runs.badInterval?.stderr).toContain('--interval must be 15, 30 or 60');
    expect(runs.misplacedOption?.code).toBe(1);
    expect(runs.misplacedOption?.stderr).toContain('--sla applies only to');
  });

  it('exits 1 on I/O errors and unmappable reports, naming the input', () => {
    expect(runs.missingFile?.code).toBe(1);
    expect(runs.missingFile?.stderr).toContain('nope.json');
    expect(runs.missingFile?.stderr).toContain('ENOENT');
    expect(runs.missingFile?.stdout).toBe('');
    expect(runs.directory?.code).toBe(1);
    expect(runs.directory?.stderr).toBe(
      `ctr-csv: ${JSON.stringify(dir)} is a directory, not a file\n`,
    );
    expect(runs.stdinDirectory?.code).toBe(1);
    expect(runs.stdinDirectory?.stderr).toContain('standard input is a directory');
    expect(runs.badReport?.code).toBe(1);
    expect(runs.badReport?.stderr).toContain('Headers found');
  });

  it('checks every input before writing: a missing later input leaves no output file', async () => {
    expect(runs.missingLater?.code).toBe(1);
    expect(runs.missingLater?.stderr).toContain('nope.json');
    const left = await readdir(dir);
    expect(left).not.toContain('partial.csv');
    expect(left).not.toContain('never.csv');
    expect(left.filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('exits 1 naming the output when a write fails (a full disk)', () => {
    expect(runs.fullDisk?.code).toBe(1);
    expect(runs.fullDisk?.stderr).toBe(
      'ctr-csv: cannot write "/dev/full": ENOSPC (no space left on device, write)\n',
    );
  });

  it('refuses an output file that is also an input, leaving it as it was', async () => {
    expect(runs.sameFile?.code).toBe(1);
    expect(runs.sameFile?.stderr).toContain('is also an input');
    expect(await readFile(join(dir, 'same.json'))).toEqual(sampleBytes());
  });

  it('replaces an existing output file whole, keeping its permissions', async () => {
    expect(runs.replace?.code).toBe(0);
    expect(await readFile(join(dir, 'existing.csv'), 'utf8')).toBe((runs.sample as Run).stdout);
    expect((await stat(join(dir, 'existing.csv'))).mode & 0o777).toBe(0o640);
  });

  it('maps a 15-minute report with --report-interval 15, and checks each row is on the grid', () => {
    expect(runs.report15?.code).toBe(0);
    expect(runs.report15?.stdout.split('\n')[1]).toBe(
      '2026-11-24T08:15:00Z,15,agent.x,900,2,898,1,,,,,',
    );
    expect(runs.report15Split?.code).toBe(1);
    expect(runs.report15Split?.stderr).toContain('--split-15 splits 30-minute rows');
    expect(runs.reportOffGrid?.code).toBe(1);
    expect(runs.reportOffGrid?.stderr).toContain(
      '"2026-11-24T08:15:00Z" is not the start of a 30-minute interval',
    );
    expect(runs.reportOffGrid?.stdout).toBe('');
  });

  it('keeps exit status 2 and the summary when the reader of stdout goes away early', async () => {
    // A bad record first, then enough good ones that the CSV outgrows the pipe after `head` left.
    const good = Array.from({ length: 30_000 }, (_, i) => JSON.stringify(ctr(`g${i}`))).join('');
    await writeFile(join(dir, 'long.json'), `{"Channel":"VOICE"}${good}`);
    const command = `${[process.execPath, '--import', 'tsx', CLI, join(dir, 'long.json')]
      .map((a) => `'${a}'`)
      .join(' ')} | head -c 10 >/dev/null; echo "status=\${PIPESTATUS[0]}"`;
    const res = await new Promise<Run>((resolve, reject) => {
      const child = spawn('bash', ['-c', command], {
        env: { ...process.env, TSX_TSCONFIG_PATH: join(REPO_ROOT, 'tsconfig.json') },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString('utf8');
      });
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString('utf8');
      });
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    expect(res.stdout.trim()).toBe('status=2');
    expect(res.stderr).toMatch(
      /ctr-csv: \d+ good record\(s\) converted, 1 bad record\(s\) left out:/,
    );
    expect(res.stderr).toContain('byte 0 (19 bytes): not-a-ctr');
  });
});
