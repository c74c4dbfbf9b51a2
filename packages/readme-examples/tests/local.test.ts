// The README examples that need no network peer: they run on files in their working directory.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { REPO, readmeExample, runExample } from './support.js';

const CTR_OBJECT = gzipSync(
  readFileSync(join(REPO, 'packages/ctr-csv-mapper/tests/fixtures/ctr-sample.firehose')),
);

describe('README examples without peers', () => {
  it('core: retries, errors, redaction and config problems', async () => {
    const run = await runExample(readmeExample('core'));
    run.cleanUp();
    expect({ exit: run.exit, out: run.out }).toEqual({
      exit: 0,
      out: [
        'uploaded after 3 attempts',
        'login failed for password [redacted]',
        "[ { path: 'sftp.port', message: 'Expected number' } ]",
        '',
      ].join('\n'),
    });
  });

  it('redact: the deprecated package points to core', async () => {
    const run = await runExample(readmeExample('redact'));
    run.cleanUp();
    expect({ exit: run.exit, out: run.out }).toEqual({
      exit: 0,
      out: 'token [redacted] refused\n',
    });
  });

  it('rta-delta-collapser: a batch in, the delta out, completed', async () => {
    const run = await runExample(readmeExample('rta-delta-collapser'));
    run.cleanUp();
    expect(run.exit).toBe(0);
    expect(run.stdout).toContain("1 [ '49640912345678901234567891: invalid-json' ]");
    expect(run.stdout).toContain("userCode: 'agent.alvarez'");
    expect(run.stdout).toContain("stateCode: 'OnContact:VOICE'");
    expect(run.stdout.trimEnd().endsWith('[]')).toBe(true); // nothing pending after completion
  });

  it('checkpoint-store: the file backend keeps the shard end', async () => {
    const run = await runExample(readmeExample('checkpoint-store'));
    const file = readFileSync(join(run.dir, 'checkpoints.json'), 'utf8');
    run.cleanUp();
    expect(run.exit).toBe(0);
    expect(run.stdout).toMatch(/^shardId-000000000000 \S+ true \d{4}-\d\d-\d\dT/m);
    expect(file).toContain('shardId-000000000000');
  });

  it('ctr-csv-mapper: a gzip Firehose object to the CTR CSV file', async () => {
    const run = await runExample(readmeExample('ctr-csv-mapper', 0), {
      files: { 'object.gz': CTR_OBJECT },
    });
    const csvName = 'ctr-stream-1-2026-11-24-08-15-00-3f1c.gz.csv';
    const written = readdirSync(run.dir);
    const csv = written.includes(csvName) ? readFileSync(join(run.dir, csvName), 'utf8') : '';
    run.cleanUp();
    expect({ exit: run.exit, out: run.out }).toEqual({ exit: 0, out: '' });
    expect(written).toContain(csvName);
    const lines = csv.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^Agent_ARN,.*,ContactID,/);
    expect(lines.length).toBeGreaterThan(1);
  });

  it('ctr-csv-mapper: queue interval statistics record by record', async () => {
    const run = await runExample(readmeExample('ctr-csv-mapper', 1), {
      files: { 'object.gz': CTR_OBJECT },
    });
    run.cleanUp();
    expect(run.exit).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^interval_start,/);
    expect(lines.length).toBeGreaterThan(1);
  });

  it('testkit: starts kinesalite and s3rver, uses them and stops them', async () => {
    const run = await runExample(readmeExample('testkit'));
    run.cleanUp();
    expect({ exit: run.exit, out: run.out }).toEqual({ exit: 0, out: expect.any(String) });
    expect(run.stdout).toMatch(/^2 shards; record \d+ in shardId-00000000000[01]$/m);
    expect(run.stdout).toContain('s3 object: {}');
  });
});
