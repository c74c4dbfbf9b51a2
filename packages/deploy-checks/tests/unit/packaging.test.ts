import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { findOnPath } from '../../src/index.js';
import { DAEMON_DRAIN_BOUND_S, DAEMON_ENV, DEPLOY, REPO, RTA_BUNDLE } from '../support.js';

const DOCKERFILE = join(DEPLOY, 'docker', 'rta-service', 'Dockerfile');
const UNIT = join(DEPLOY, 'systemd', 'connect-wfm-rta.service');
const ENV_EXAMPLE = join(DEPLOY, 'systemd', 'connect-wfm-rta.env.example');
/** The memory settings the daemon is deployed, tested and benchmarked with. */
const RUNTIME_ENV = Object.entries(
  JSON.parse(readFileSync(join(REPO, 'apps', 'rta-service', 'runtime-env.json'), 'utf8')) as Record<
    string,
    string
  >,
).map(([key, value]) => `${key}=${value}`);

/** Dockerfile instructions, continuation lines joined, comments dropped. */
function instructions(text: string): { op: string; args: string }[] {
  const joined = text
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .join('\n')
    .replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .map((l) => {
      const [op = '', ...rest] = l.split(/\s+/);
      return { op: op.toUpperCase(), args: rest.join(' ') };
    });
}

/** A systemd unit as section -> key -> values (a key may repeat). */
function unitFile(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const section = /^\[(.+)\]$/.exec(line);
    if (section) {
      current = new Map();
      sections.set(section[1] as string, current);
      continue;
    }
    const eq = line.indexOf('=');
    if (current === undefined || eq < 0) throw new Error(`unexpected line in the unit: ${line}`);
    const key = line.slice(0, eq);
    current.set(key, [...(current.get(key) ?? []), line.slice(eq + 1)]);
  }
  return sections;
}

/** systemd time span (60, 60s, 1min, 2min 30s) in seconds. */
function seconds(span: string): number {
  const units: Record<string, number> = { '': 1, s: 1, sec: 1, m: 60, min: 60, h: 3600 };
  let total = 0;
  for (const m of span.matchAll(/(\d+)\s*([a-z]*)/g))
    total += Number(m[1]) * (units[m[2] as string] ?? Number.NaN);
  return total;
}

describe('deploy/docker/rta-service/Dockerfile', () => {
  const ops = instructions(readFileSync(DOCKERFILE, 'utf8'));
  const args = (op: string) => ops.filter((i) => i.op === op).map((i) => i.args);

  it('builds on the current Node.js LTS slim image', () => {
    expect(args('FROM')).toEqual(['node:24-slim']);
  });

  it('runs the bundle the app build produces, as its entrypoint', () => {
    const copy = args('COPY').find((a) => a.includes(RTA_BUNDLE));
    expect(copy).toBeDefined();
    const destination = copy?.split(/\s+/).at(-1);
    expect(args('ENTRYPOINT')).toEqual([JSON.stringify(['node', destination]).replace(/,/g, ', ')]);
  });

  it('sets the memory settings of apps/rta-service/runtime-env.json', () => {
    expect(RUNTIME_ENV.length).toBeGreaterThan(0);
    const set = args('ENV').flatMap((a) => a.split(/\s+/));
    for (const pair of RUNTIME_ENV) expect(set).toContain(pair);
  });

  it('runs as an unprivileged user', () => {
    const users = args('USER');
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)).not.toMatch(/^(root|0)(:|$)/);
    expect(ops.findIndex((i) => i.op === 'USER')).toBeLessThan(
      ops.findIndex((i) => i.op === 'ENTRYPOINT'),
    );
  });

  it('listens on all interfaces and checks /healthz', () => {
    expect(args('ENV').join(' ')).toMatch(/\bRTA_HTTP_HOST=0\.0\.0\.0\b/);
    const health = args('HEALTHCHECK');
    expect(health).toHaveLength(1);
    expect(health[0]).toContain('/healthz');
    expect(args('EXPOSE')).toEqual(['9464']);
  });

  it('sends only the bundle as build context', () => {
    const ignore = readFileSync(`${DOCKERFILE}.dockerignore`, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '' && !l.startsWith('#'));
    expect(ignore).toEqual(['*', `!${RTA_BUNDLE}`, `!${dirname(RTA_BUNDLE)}/chunks`]);
  });
});

describe("the image's entrypoint is the app's production bundle", () => {
  const BUILD_TIMEOUT_MS = 300_000;
  let dir: string;
  let bundle: string;

  beforeAll(() => {
    // `npm run build -w apps/rta-service` makes the bundle; build it when no test has yet
    if (!existsSync(join(REPO, RTA_BUNDLE))) {
      const run = spawnSync('npm', ['run', 'build', '-w', 'apps/rta-service'], {
        cwd: REPO,
        encoding: 'utf8',
        timeout: BUILD_TIMEOUT_MS,
      });
      if (run.status !== 0)
        throw new Error(`the rta-service build failed: ${run.stdout}${run.stderr}`);
    }
    // alone in a directory, as in the image: no node_modules to fall back on
    dir = mkdtempSync(join(tmpdir(), 'connect-wfm-image-'));
    bundle = join(dir, 'connect-wfm-rta.mjs');
    copyFileSync(join(REPO, RTA_BUNDLE), bundle);
    // and the chunks it loads (shared code statically, the database stores on demand), as the image has
    cpSync(join(REPO, dirname(RTA_BUNDLE), 'chunks'), join(dir, 'chunks'), { recursive: true });
  }, BUILD_TIMEOUT_MS);

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('is the file the app declares as its bin and its build writes', () => {
    const pkg = JSON.parse(
      readFileSync(join(REPO, 'apps', 'rta-service', 'package.json'), 'utf8'),
    ) as {
      bin?: Record<string, string>;
    };
    expect(join('apps/rta-service', pkg.bin?.['connect-wfm-rta'] ?? '')).toBe(RTA_BUNDLE);
    expect(readFileSync(join(REPO, 'apps', 'rta-service', 'build.mjs'), 'utf8')).toContain(
      "'connect-wfm-rta.mjs'",
    );
  });

  it("runs on its own with the image's environment and accepts it", () => {
    const imageEnv = Object.fromEntries(
      instructions(readFileSync(DOCKERFILE, 'utf8'))
        .filter((i) => i.op === 'ENV')
        .flatMap((i) => i.args.split(/\s+/))
        .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
    );
    const run = spawnSync(process.execPath, [bundle, '--check-config'], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 60_000,
      env: {
        PATH: process.env.PATH ?? '',
        ...imageEnv,
        RTA_STREAM: 'arn:aws:kinesis:eu-west-1:111122223333:stream/agent-events',
        RTA_WFM_URL: 'https://wfm.example.com',
        RTA_AUTH_KEY: 'stand-in-key-value',
        RTA_SOURCE_ID: 'AmazonConnect',
      },
    });
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('"httpHost": "0.0.0.0"');
    expect(run.stdout).not.toContain('stand-in-key-value');
  });
});

describe('deploy/systemd/connect-wfm-rta.service', () => {
  const unit = unitFile(readFileSync(UNIT, 'utf8'));
  const service = unit.get('Service') ?? new Map<string, string[]>();
  const one = (key: string) => service.get(key)?.at(-1);

  it('runs as a dynamic user with a state directory for the file checkpoint store', () => {
    expect(one('DynamicUser')).toBe('yes');
    expect(one('StateDirectory')).toBe('connect-wfm-rta');
    expect(service.get('Environment')).toContain(
      'RTA_STORE=file:/var/lib/connect-wfm-rta/state.json',
    );
  });

  it('sets the memory settings of apps/rta-service/runtime-env.json', () => {
    for (const pair of RUNTIME_ENV) expect(service.get('Environment')).toContain(pair);
  });

  it('is hardened', () => {
    expect(one('NoNewPrivileges')).toBe('yes');
    expect(one('ProtectSystem')).toBe('strict');
    expect(one('ProtectHome')).toBe('yes');
    expect(one('PrivateTmp')).toBe('yes');
    expect(one('CapabilityBoundingSet')).toBe('');
  });

  it('always restarts, except after a configuration error (exit 78)', () => {
    expect(one('Restart')).toBe('always');
    expect(one('RestartPreventExitStatus')).toBe('78');
  });

  it("waits longer than the daemon's drain before it kills", () => {
    expect(one('KillSignal')).toBe('SIGTERM');
    expect(seconds(one('TimeoutStopSec') ?? '0')).toBeGreaterThan(DAEMON_DRAIN_BOUND_S);
  });

  it('reads its settings and the WFM key from an environment file', () => {
    expect(one('EnvironmentFile')).toBe('/etc/connect-wfm-rta/connect-wfm-rta.env');
    expect(readFileSync(UNIT, 'utf8')).toMatch(/0600/);
    expect(one('ExecStart')).toMatch(/\/connect-wfm-rta\.mjs$/);
  });

  if (findOnPath('systemd-analyze') !== undefined) {
    it('passes systemd-analyze verify', () => {
      const run = spawnSync('systemd-analyze', ['verify', UNIT], {
        encoding: 'utf8',
        timeout: 60_000,
      });
      const problems = `${run.stdout}${run.stderr}`
        .split('\n')
        .filter((l) =>
          /Unknown (key|section)|Failed to parse|Invalid|not allowed|Missing '='/.test(l),
        );
      expect(problems).toEqual([]);
    });
  }
});

describe('deploy/systemd/connect-wfm-rta.env.example', () => {
  const lines = readFileSync(ENV_EXAMPLE, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const settings = lines.filter((l) => !l.startsWith('#'));
  const commented = lines.filter((l) => /^#[A-Z_]+=/.test(l)).map((l) => l.slice(1));

  it('sets only settings the daemon knows (and the AWS credential variables, commented out)', () => {
    const aws = new Set(['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']);
    for (const l of [...settings, ...commented]) {
      const name = l.slice(0, l.indexOf('='));
      expect([name, DAEMON_ENV.has(name) || aws.has(name)]).toEqual([name, true]);
    }
    for (const l of settings) expect(aws.has(l.slice(0, l.indexOf('=')))).toBe(false);
  });

  it('holds no secret value', () => {
    expect(settings).toContain('RTA_AUTH_KEY=');
    for (const l of [...settings, ...commented]) {
      if (/^(RTA_AUTH_KEY|RTA_EXTERNAL_ID|AWS_SECRET_ACCESS_KEY|AWS_ACCESS_KEY_ID)=/.test(l))
        expect(l).toMatch(/=$/);
    }
    expect(lines.join('\n')).not.toMatch(/\b(AKIA|ASIA)[A-Z0-9]{16}\b/);
  });
});
