/**
 * PostgreSQL for tests, benchmarks and the demo: a real server. Either the one `PG_URL` names
 * (a throwaway database is created in it and dropped at stop), or a throwaway cluster made
 * with the Debian PostgreSQL binaries (`initdb` + `pg_ctl`) in a temporary directory, listening
 * only on 127.0.0.1 at a port chosen at run time.
 */
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './ports.js';

/** Options of {@link startPostgres}. */
export interface PostgresOptions {
  /**
   * Use this server instead of starting one: a `postgres://user:password@host:port/db` URL of
   * a role allowed to `CREATE DATABASE`. A unique database is created in it and dropped by
   * `stop()`.
   * @default process.env.PG_URL, else a throwaway local cluster
   */
  readonly url?: string | undefined;
  /** Extra server settings (`-c name=value`) of a local cluster. @default {} */
  readonly settings?: Readonly<Record<string, string>>;
  /** How long to wait for a local cluster to start, in ms. @default 60000 */
  readonly startTimeoutMs?: number;
}

/** A PostgreSQL server (or database) ready for use. */
export interface PostgresServer {
  /** `postgres://user:password@127.0.0.1:<port>/<database>` for `pg` and `psql`. */
  readonly connectionString: string;
  /** `local`: a cluster started for this test; `external`: a database in the `PG_URL` server. */
  readonly kind: 'local' | 'external';
  /** Local: the server's major version directory (`15`); external: `external`. */
  readonly version: string;
  /**
   * Local: stops the cluster (`pg_ctl stop -m immediate`) and removes its directory.
   * External: drops the throwaway database. Safe to call twice.
   */
  stop(): Promise<void>;
}

const POSTGRES_ROOT = '/usr/lib/postgresql';
const SUPERUSER = 'postgres';

interface CommandResult {
  stdout: string;
  stderr: string;
}

function run(
  cmd: string,
  args: readonly string[],
  opts: { cwd?: string; timeoutMs?: number } = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      { encoding: 'utf8', cwd: opts.cwd, timeout: opts.timeoutMs ?? 60_000 },
      (err, stdout, stderr) => {
        if (err) {
          reject(
            new Error(`${cmd} ${args.join(' ')} failed: ${err.message}\n${stderr.slice(-2000)}`, {
              cause: err,
            }),
          );
        } else {
          resolve({ stdout, stderr });
        }
      },
    );
  });
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** The newest `/usr/lib/postgresql/<major>/bin` holding `initdb` and `pg_ctl`, if any. */
export function findPostgresBinaries(
  root = POSTGRES_ROOT,
): { version: string; bin: string } | undefined {
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => /^\d+(\.\d+)?$/.test(v))
    .sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a));
  for (const version of versions) {
    const bin = join(root, version, 'bin');
    if (existsSync(join(bin, 'initdb')) && existsSync(join(bin, 'pg_ctl'))) return { version, bin };
  }
  return undefined;
}

function installWithApt(): void {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let res = spawnSync('apt-get', ['install', '-y', '-q', 'postgresql'], { env, encoding: 'utf8' });
  if (res.status !== 0) {
    spawnSync('apt-get', ['update', '-q'], { env });
    res = spawnSync('apt-get', ['install', '-y', '-q', 'postgresql'], { env, encoding: 'utf8' });
  }
  if (res.status !== 0) {
    throw new Error(
      `could not install postgresql with apt-get (exit ${String(res.status)}): ${String(res.stderr).slice(-500)}`,
    );
  }
}

function postgresBinaries(): { version: string; bin: string } {
  let found = findPostgresBinaries();
  if (found === undefined && isRoot() && existsSync('/usr/bin/apt-get')) {
    installWithApt();
    found = findPostgresBinaries();
  }
  if (found === undefined) {
    throw new Error(
      `PostgreSQL server binaries not found under ${POSTGRES_ROOT}/<version>/bin: install them (Debian/Ubuntu: "apt-get install -y postgresql"), or set PG_URL to a server where this user may CREATE DATABASE`,
    );
  }
  return found;
}

function postgresIds(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${SUPERUSER}:`));
  const fields = line?.split(':');
  const uid = Number(fields?.[2]);
  const gid = Number(fields?.[3]);
  if (line === undefined || !Number.isInteger(uid) || !Number.isInteger(gid)) {
    throw new Error(
      'running as root, but there is no "postgres" OS user to run the server as: install the Debian "postgresql" package (it creates the user)',
    );
  }
  return { uid, gid };
}

/** The command line running a PostgreSQL binary as the `postgres` OS user when we are root. */
function asServerUser(file: string, args: readonly string[]): [string, string[]] {
  if (!isRoot()) return [file, [...args]];
  const runuser = ['/usr/sbin/runuser', '/sbin/runuser'].find((p) => existsSync(p));
  if (runuser !== undefined) return [runuser, ['-u', SUPERUSER, '--', file, ...args]];
  const quoted = [file, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return ['su', [SUPERUSER, '-s', '/bin/sh', '-c', quoted]];
}

/** Runs a PostgreSQL binary, as the `postgres` OS user when we are root (the server refuses root). */
function runAsServerUser(
  file: string,
  args: readonly string[],
  cwd: string,
  timeoutMs?: number,
): Promise<CommandResult> {
  const [cmd, cmdArgs] = asServerUser(file, args);
  return run(cmd, cmdArgs, timeoutMs === undefined ? { cwd } : { cwd, timeoutMs });
}

/** `pg_ctl stop -m immediate`, synchronously (usable in an `exit` handler). */
function stopSync(pgCtl: string, data: string, cwd: string): void {
  const [cmd, cmdArgs] = asServerUser(pgCtl, ['-D', data, 'stop', '-m', 'immediate', '-w']);
  spawnSync(cmd, cmdArgs, { stdio: 'ignore', cwd, timeout: 30_000 });
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}

async function startExternal(url: string): Promise<PostgresServer> {
  const database = `cwfm_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${database}`);
  } finally {
    await admin.end();
  }
  let stopped: Promise<void> | undefined;
  return {
    connectionString: withDatabase(url, database),
    kind: 'external',
    version: 'external',
    stop() {
      stopped ??= (async () => {
        const c = new pg.Client({ connectionString: url });
        await c.connect();
        try {
          await c.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
        } finally {
          await c.end();
        }
      })();
      return stopped;
    },
  };
}

async function startLocal(options: PostgresOptions): Promise<PostgresServer> {
  const { version, bin } = postgresBinaries();
  const dir = await mkdtemp(join(tmpdir(), 'cwfm-pg-'));
  const data = join(dir, 'data');
  const password = randomBytes(18).toString('base64url');
  const pwfile = join(dir, 'pwfile');
  await writeFile(pwfile, `${password}\n`, { mode: 0o600 });
  const pgCtl = join(bin, 'pg_ctl');
  let running = false;

  const cleanupSync = (): void => {
    if (running) stopSync(pgCtl, data, dir);
  };

  try {
    if (isRoot()) {
      const { uid, gid } = postgresIds();
      await chown(dir, uid, gid);
      await chown(pwfile, uid, gid);
    }
    await runAsServerUser(
      join(bin, 'initdb'),
      [
        '-D',
        data,
        '-U',
        SUPERUSER,
        `--pwfile=${pwfile}`,
        '--auth-host=scram-sha-256',
        '--auth-local=peer',
        '--encoding=UTF8',
        '--no-locale',
        '--no-sync',
        '--no-instructions',
      ],
      dir,
    );
    await rm(pwfile, { force: true });

    const settings: Record<string, string> = {
      fsync: 'off',
      synchronous_commit: 'off',
      full_page_writes: 'off',
      max_connections: '50',
      ...options.settings,
    };
    let port = 0;
    let lastError: unknown;
    for (let attempt = 0; attempt < 3 && !running; attempt++) {
      port = await freePort();
      const serverArgs = [
        `-c listen_addresses=127.0.0.1`,
        `-c port=${port}`,
        `-c unix_socket_directories=${dir}`,
        ...Object.entries(settings).map(([k, v]) => `-c ${k}=${v}`),
      ].join(' ');
      try {
        await runAsServerUser(
          pgCtl,
          [
            '-D',
            data,
            '-l',
            join(dir, 'server.log'),
            '-w',
            '-t',
            String(Math.ceil((options.startTimeoutMs ?? 60_000) / 1000)),
            '-o',
            serverArgs,
            'start',
          ],
          dir,
          (options.startTimeoutMs ?? 60_000) + 5_000,
        );
        running = true;
      } catch (err) {
        lastError = err;
        // most likely the port was taken between freePort() and the bind: try another one
        stopSync(pgCtl, data, dir);
      }
    }
    if (!running) {
      let log = '';
      try {
        log = readFileSync(join(dir, 'server.log'), 'utf8').slice(-2000);
      } catch {
        // no log
      }
      throw new Error(`PostgreSQL ${version} did not start in ${dir}: ${log}`, {
        cause: lastError,
      });
    }

    process.once('exit', cleanupSync);
    let stopped: Promise<void> | undefined;
    return {
      connectionString: `postgres://${SUPERUSER}:${password}@127.0.0.1:${port}/postgres`,
      kind: 'local',
      version,
      stop() {
        stopped ??= (async () => {
          process.off('exit', cleanupSync);
          try {
            await runAsServerUser(pgCtl, ['-D', data, 'stop', '-m', 'immediate', '-w'], dir);
          } finally {
            running = false;
            await rm(dir, { recursive: true, force: true });
          }
        })();
        return stopped;
      },
    };
  } catch (err) {
    cleanupSync();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Starts a real PostgreSQL server for a test and returns its connection string.
 *
 * With `PG_URL` (or `options.url`) set, creates a unique database in that server. Otherwise
 * makes a throwaway cluster with the newest `/usr/lib/postgresql/<version>/bin` (`initdb`, then
 * `pg_ctl start`), run as the `postgres` OS user when the process is root, listening only on
 * 127.0.0.1 at a free port with its unix socket in the temporary directory, password
 * authentication over TCP and `fsync=off` (test data is throwaway). When the binaries are
 * missing it installs the Debian `postgresql` package if root, or fails saying what to install.
 *
 * @example
 * const postgres = await startPostgres();
 * const client = new pg.Client({ connectionString: postgres.connectionString });
 * await client.connect();
 * await client.query('SELECT 1');
 * await client.end();
 * await postgres.stop();
 */
export async function startPostgres(options: PostgresOptions = {}): Promise<PostgresServer> {
  const url = options.url ?? process.env.PG_URL;
  if (url !== undefined && url !== '') return await startExternal(url);
  return await startLocal(options);
}
