import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBundle, runDaemon } from '../support/daemon.js';

const SECRET = 'very-secret-rta-key-123';
let dir: string;

beforeAll(async () => {
  await ensureBundle();
  dir = await mkdtemp(join(tmpdir(), 'rta-config-'));
}, 120_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('connect-wfm-rta configuration', () => {
  it('exits 78 listing every problem at once, without printing the key', async () => {
    const result = await runDaemon({
      RTA_STREAM: 'agent-events',
      RTA_WFM_URL: 'ftp://wfm.example.com',
      RTA_AUTH_KEY: SECRET,
      RTA_POLL_MS: 'five',
      RTA_LEASE_TTL_MS: '10',
      RTA_LOG_FORMAT: 'xml',
      RTA_READ_BUDGET_RECORDS: '10',
      RTA_POLLMS: '1',
    });
    expect(result.code).toBe(78);
    const lines = result.stderr.split('\n').filter((l) => l.startsWith('  - '));
    expect(lines.map((l) => l.split(':')[0]?.slice(4))).toEqual(
      expect.arrayContaining([
        'RTA_POLLMS',
        'AWS_REGION (region)',
        'RTA_WFM_URL (wfmUrl)',
        'RTA_SOURCE_ID (sourceId)',
        'RTA_POLL_MS (pollMs)',
        'RTA_LEASE_TTL_MS (leaseTtlMs)',
        'RTA_LOG_FORMAT (logFormat)',
        'RTA_READ_BUDGET_RECORDS (readBudgetRecords)',
      ]),
    );
    expect(lines).toHaveLength(8);
    expect(result.stderr + result.stdout).not.toContain(SECRET);
  });

  it('reads a YAML file whose values win over the environment, and reports its unknown keys', async () => {
    const file = join(dir, 'bad.yaml');
    await writeFile(file, `pollMs: 0\nsourceIdd: "2"\nauthKey: ${SECRET}\n`);
    const result = await runDaemon(
      {
        RTA_STREAM: 'agent-events',
        AWS_REGION: 'eu-west-1',
        RTA_WFM_URL: 'https://wfm.example.com',
        RTA_SOURCE_ID: '1',
        RTA_POLL_MS: '5000',
      },
      ['--config', file],
    );
    expect(result.code).toBe(78);
    expect(result.stderr).toContain(`pollMs in ${file}: must be at least 100`);
    expect(result.stderr).toContain(`sourceIdd in ${file}: is not a setting`);
    expect(result.stderr).not.toContain(SECRET);
  });

  it('--check-config prints the effective configuration with secrets masked and exits 0', async () => {
    const file = join(dir, 'good.json');
    await writeFile(file, JSON.stringify({ pollMs: 2500, store: 'postgres://rta:pg-pass@db/rta' }));
    const result = await runDaemon(
      {
        RTA_STREAM: 'arn:aws:kinesis:eu-west-1:111122223333:stream/agent-events',
        RTA_WFM_URL: 'https://wfm.example.com/TeleoptiWFM/Web',
        RTA_AUTH_KEY: SECRET,
        RTA_SOURCE_ID: '1',
      },
      ['--check-config', '--config', file],
    );
    expect(result.code).toBe(0);
    const printed = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(printed).toMatchObject({
      pollMs: 2500,
      region: 'eu-west-1',
      sourceId: '1',
      readBudgetRecords: 10_000,
    });
    expect(result.stdout).not.toContain(SECRET);
    expect(result.stdout).not.toContain('pg-pass');
  });

  it('--help lists every environment variable', async () => {
    const result = await runDaemon({}, ['--help']);
    expect(result.code).toBe(0);
    for (const name of ['RTA_STREAM', 'RTA_AUTH_KEY', 'RTA_LEASE_TTL_MS', 'RTA_LOG_FORMAT']) {
      expect(result.stdout).toContain(name);
    }
  });
});
