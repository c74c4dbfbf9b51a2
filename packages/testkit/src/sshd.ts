/**
 * A real OpenSSH `sshd` on 127.0.0.1 for SFTP tests, benchmarks and the demo.
 *
 * Each server gets a generated config, an ed25519 host key, a port chosen at run time and a
 * throwaway local user (password + authorized keys) whose home lives under a temp directory.
 * `kill()`/`start()`/`restart()` simulate a crash of the server (the listener and every
 * per-connection process die, files and user stay); `stop()` removes everything.
 */
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';

const SSHD = '/usr/sbin/sshd';
const BASE_PREFIX = 'cwfm-sshd-';
const USER_PREFIX = 'cwfm';

/** Options of {@link startSshd}. */
export interface SshdOptions {
  /**
   * SFTP requests the server refuses with "permission denied" (`internal-sftp -P`), for
   * example `['posix-rename']` to exercise a client's fallback. `sftp-server -Q requests`
   * lists the names.
   * @default []
   */
  deniedSftpRequests?: readonly string[];
  /**
   * Extra `sshd_config` lines appended to the generated config.
   * @default []
   */
  extraConfig?: readonly string[];
  /**
   * sshd `LogLevel`; the last log lines are quoted when the server fails to start.
   * @default 'INFO'
   */
  logLevel?: 'QUIET' | 'FATAL' | 'ERROR' | 'INFO' | 'VERBOSE' | 'DEBUG';
  /** Called with every line sshd writes to stderr (it runs with `-D -e`). */
  onLog?: (line: string) => void;
  /**
   * How long to wait for the server to accept connections, in milliseconds.
   * @default 10000
   */
  startTimeoutMs?: number;
}

/** A running OpenSSH server and its throwaway user. */
export interface SshdServer {
  /** Always `127.0.0.1`. */
  readonly host: '127.0.0.1';
  /** TCP port chosen at run time. */
  readonly port: number;
  /** The throwaway user's name (unique per server). */
  readonly username: string;
  /** The throwaway user's password. */
  readonly password: string;
  /** An authorized ed25519 private key without passphrase (OpenSSH PEM). */
  readonly privateKey: string;
  /** Local path of {@link SshdServer.privateKey} (mode 0600), for the `sftp -i` CLI. */
  readonly privateKeyPath: string;
  /** An authorized ed25519 private key protected by {@link SshdServer.passphrase}. */
  readonly encryptedPrivateKey: string;
  /** Local path of {@link SshdServer.encryptedPrivateKey}. */
  readonly encryptedPrivateKeyPath: string;
  /** Passphrase of {@link SshdServer.encryptedPrivateKey}. */
  readonly passphrase: string;
  /** The host key's fingerprint as `ssh-keygen -lf` prints it: `SHA256:<base64>`. */
  readonly hostKeySha256: string;
  /** The host public key line (`ssh-ed25519 AAAA…`), for a `known_hosts` file. */
  readonly hostPublicKey: string;
  /** Local path of the user's home directory (the SFTP session starts there). */
  readonly home: string;
  /** Local path of the user's upload directory (`<home>/upload`, owned by the user). */
  readonly root: string;
  /** Whether the listener is currently running. */
  readonly running: boolean;
  /**
   * Arguments for OpenSSH's own `sftp` (or `ssh`) client to log in as the throwaway user with
   * the key, the current host key pinned (a `known_hosts` file written beside the server) and
   * batch mode; `extra` options go before the destination, which comes last.
   *
   * @example
   * spawnSync('sftp', ['-b', batchFile, ...sshd.opensshClientArgs(['-o', 'Ciphers=aes128-ctr'])]);
   */
  opensshClientArgs(extra?: readonly string[]): string[];
  /** PIDs of the listener and of every per-connection process still alive. */
  processIds(): number[];
  /**
   * Crashes the server: kills the listener and every per-connection process (so open
   * transfers fail mid-way). The user, files and host key stay, so {@link SshdServer.start}
   * brings back the same server on the same port.
   */
  kill(): Promise<void>;
  /** Starts the server again after {@link SshdServer.kill}; a no-op when running. */
  start(): Promise<void>;
  /** {@link SshdServer.kill} then {@link SshdServer.start}. */
  restart(): Promise<void>;
  /**
   * Gives the server a new generated host key (restarting it when running), as a re-installed
   * or impersonated server would present; updates `hostKeySha256`/`hostPublicKey` and returns
   * the new fingerprint.
   */
  replaceHostKey(): Promise<string>;
  /** Stops the server for good: kills it, removes the user (`userdel -r`) and temp files. */
  stop(): Promise<void>;
}

/** A generated ed25519 key pair. */
export interface SshKeyPair {
  /** OpenSSH private key (PEM). */
  privateKey: string;
  /** Public key line (`ssh-ed25519 AAAA… comment`). */
  publicKey: string;
  /** Fingerprint as `ssh-keygen -lf` prints it: `SHA256:<base64>`. */
  sha256: string;
}

async function run(cmd: string, args: readonly string[], input?: string): Promise<string> {
  return await new Promise<string>((resolve, reject) => {
    const child = execFile(cmd, args, { encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) {
        const code = (err as { code?: unknown }).code;
        reject(
          Object.assign(new Error(`${cmd} failed (exit ${String(code)}): ${stderr.trim()}`), {
            exitCode: code,
          }),
        );
        return;
      }
      resolve(stdout);
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

async function fingerprint(pubKeyPath: string): Promise<string> {
  const out = await run('ssh-keygen', ['-l', '-E', 'sha256', '-f', pubKeyPath]);
  const fp = out.trim().split(/\s+/)[1];
  if (fp === undefined || !fp.startsWith('SHA256:')) {
    throw new Error(`unexpected ssh-keygen -lf output: ${out}`);
  }
  return fp;
}

async function keygen(path: string, passphrase: string, comment: string): Promise<SshKeyPair> {
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-C', comment, '-f', path]);
  return {
    privateKey: await readFile(path, 'utf8'),
    publicKey: (await readFile(`${path}.pub`, 'utf8')).trim(),
    sha256: await fingerprint(`${path}.pub`),
  };
}

/**
 * Generates an ed25519 key pair with `ssh-keygen` (for example a host key nobody serves, to
 * test host key mismatches).
 *
 * @example
 * const other = await generateSshKeyPair();
 * // pin other.sha256 and expect the connection to be refused
 */
export async function generateSshKeyPair(
  options: { passphrase?: string; comment?: string } = {},
): Promise<SshKeyPair> {
  const dir = await mkdtemp(join(tmpdir(), 'cwfm-keygen-'));
  try {
    return await keygen(join(dir, 'key'), options.passphrase ?? '', options.comment ?? 'cwfm');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function ensureSshdInstalled(): void {
  if (existsSync(SSHD)) return;
  if (isRoot() && existsSync('/etc/debian_version')) {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    let res = spawnSync('apt-get', ['install', '-y', '-q', 'openssh-server'], { env });
    if (res.status !== 0) {
      spawnSync('apt-get', ['update', '-q'], { env });
      res = spawnSync('apt-get', ['install', '-y', '-q', 'openssh-server'], { env });
    }
    if (res.status === 0 && existsSync(SSHD)) return;
    throw new Error(
      `could not install openssh-server with apt-get (exit ${String(res.status)}): ${String(res.stderr).slice(-500)}`,
    );
  }
  throw new Error(
    `OpenSSH server not found at ${SSHD}: install it (Debian/Ubuntu: "apt-get install -y openssh-server") and run the SFTP tests as root`,
  );
}

interface ProcInfo {
  ppid: number;
  state: string;
}

function processTable(): Map<number, ProcInfo> {
  const table = new Map<number, ProcInfo>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // "pid (comm) state ppid ..."; comm may hold spaces and parentheses.
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      table.set(Number(entry), { state: rest[0] ?? '?', ppid: Number(rest[1]) });
    } catch {
      // the process exited while we looked
    }
  }
  return table;
}

function liveDescendants(root: number): number[] {
  const table = processTable();
  const children = new Map<number, number[]>();
  for (const [pid, info] of table) {
    const list = children.get(info.ppid) ?? [];
    list.push(pid);
    children.set(info.ppid, list);
  }
  const out: number[] = [];
  const stack = [...(children.get(root) ?? [])];
  while (stack.length > 0) {
    const pid = stack.pop() as number;
    if (table.get(pid)?.state !== 'Z') out.push(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return out;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/**
 * Kills a process and all its descendants without letting any escape: freezes the tree
 * top-down with SIGSTOP until no unfrozen descendant is left (a stopped process cannot
 * fork), then SIGKILLs everything.
 */
function killTree(rootPid: number): void {
  const frozen = new Set<number>([rootPid]);
  signal(rootPid, 'SIGSTOP');
  for (let round = 0; round < 50; round++) {
    const fresh = liveDescendants(rootPid).filter((p) => !frozen.has(p));
    if (fresh.length === 0) break;
    for (const pid of fresh) {
      signal(pid, 'SIGSTOP');
      frozen.add(pid);
    }
  }
  for (const pid of frozen) signal(pid, 'SIGKILL');
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes users and servers left behind by test processes that died without cleanup. */
function sweepStale(): void {
  let passwd: string;
  try {
    passwd = readFileSync('/etc/passwd', 'utf8');
  } catch {
    return;
  }
  const prefix = join(tmpdir(), BASE_PREFIX);
  for (const line of passwd.split('\n')) {
    const [name, , , , , home] = line.split(':');
    if (!name?.startsWith(USER_PREFIX) || !home?.startsWith(prefix)) continue;
    const base = join(home, '..');
    let owner = Number.NaN;
    try {
      owner = Number(readFileSync(join(base, 'owner.pid'), 'utf8'));
    } catch {
      // no marker: treat as stale
    }
    if (Number.isInteger(owner) && owner > 0 && pidAlive(owner)) continue;
    try {
      const sshdPid = Number(readFileSync(join(base, 'etc', 'sshd.pid'), 'utf8'));
      const cmdline = readFileSync(`/proc/${sshdPid}/cmdline`, 'utf8');
      if (cmdline.includes(base)) killTree(sshdPid);
    } catch {
      // not running
    }
    spawnSync('userdel', ['-r', '-f', name], { stdio: 'ignore' });
    rmSync(base, { recursive: true, force: true });
  }
}

const live = new Set<() => void>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const cleanup of live) cleanup();
  });
}

async function useradd(name: string, home: string): Promise<void> {
  // /etc/passwd is locked while another useradd/userdel runs: retry a few times.
  for (let attempt = 1; ; attempt++) {
    try {
      await run('useradd', ['-M', '-d', home, '-s', '/usr/sbin/nologin', name]);
      return;
    } catch (err) {
      if (attempt >= 20) throw err;
      await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
    }
  }
}

function sshdConfig(opts: {
  port: number;
  etc: string;
  username: string;
  logLevel: string;
  denied: readonly string[];
  extra: readonly string[];
  version: number;
}): string {
  const sftp =
    opts.denied.length > 0 ? `internal-sftp -P ${opts.denied.join(',')}` : 'internal-sftp';
  const lines = [
    `Port ${opts.port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${join(opts.etc, 'ssh_host_ed25519_key')}`,
    `PidFile ${join(opts.etc, 'sshd.pid')}`,
    'UsePAM no',
    'PasswordAuthentication yes',
    'PermitEmptyPasswords no',
    'KbdInteractiveAuthentication no',
    'PubkeyAuthentication yes',
    'AuthorizedKeysFile .ssh/authorized_keys',
    'PermitRootLogin no',
    'StrictModes no',
    `AllowUsers ${opts.username}`,
    `Subsystem sftp ${sftp}`,
    `ForceCommand ${sftp}`,
    'AllowTcpForwarding no',
    'X11Forwarding no',
    'PrintMotd no',
    'MaxStartups 100',
    'MaxSessions 50',
    'MaxAuthTries 10',
    'LoginGraceTime 30',
    `LogLevel ${opts.logLevel}`,
  ];
  // OpenSSH 9.8 added per-source penalties: failed-auth tests would lock out 127.0.0.1.
  if (opts.version >= 9.8) lines.push('PerSourcePenalties no');
  return `${[...lines, ...opts.extra].join('\n')}\n`;
}

function opensshVersion(): number {
  const res = spawnSync('ssh', ['-V'], { encoding: 'utf8' });
  const m = /OpenSSH_(\d+)\.(\d+)/.exec(`${res.stderr ?? ''}${res.stdout ?? ''}`);
  return m ? Number(`${m[1]}.${m[2]}`) : 0;
}

async function sshBanner(port: number): Promise<boolean> {
  return await new Promise<boolean>((resolve) => {
    const sock = connect({ host: '127.0.0.1', port });
    let data = '';
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(1000, () => done(false));
    sock.on('error', () => done(false));
    sock.on('data', (chunk) => {
      data += chunk.toString('latin1');
      if (data.includes('\n')) done(data.startsWith('SSH-2.0-'));
    });
    sock.on('close', () => done(false));
  });
}

/**
 * Starts a real OpenSSH `sshd` on 127.0.0.1 (port chosen at run time) with a throwaway user.
 * Needs root (it runs `useradd`); installs `openssh-server` with apt when missing on Debian.
 * Call `stop()` in `afterAll`.
 *
 * @example
 * const sshd = await startSshd();
 * try {
 *   // connect to sshd.host:sshd.port as sshd.username with sshd.password or sshd.privateKey,
 *   // pin sshd.hostKeySha256, upload into sshd.root
 * } finally {
 *   await sshd.stop();
 * }
 */
export async function startSshd(options: SshdOptions = {}): Promise<SshdServer> {
  ensureSshdInstalled();
  if (!isRoot()) {
    throw new Error(
      'startSshd needs root to create a throwaway user (useradd/chpasswd): run the SFTP tests as root, as .ci/run does',
    );
  }
  sweepStale();
  installExitHook();
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 }); // privilege separation directory

  const base = await mkdtemp(join(tmpdir(), BASE_PREFIX));
  await chmod(base, 0o711);
  await writeFile(join(base, 'owner.pid'), String(process.pid));
  const etc = join(base, 'etc');
  const home = join(base, 'home');
  const root = join(home, 'upload');
  await mkdir(etc, { mode: 0o700 });
  const username = `${USER_PREFIX}${randomBytes(5).toString('hex')}`;
  const password = randomBytes(18).toString('base64url');
  const passphrase = randomBytes(12).toString('base64url');

  let userCreated = false;
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let removed = false;
  const logTail: string[] = [];

  const syncCleanup = () => {
    if (child?.pid !== undefined && child.exitCode === null) killTree(child.pid);
    if (userCreated) spawnSync('userdel', ['-r', '-f', username], { stdio: 'ignore' });
    rmSync(base, { recursive: true, force: true });
  };
  live.add(syncCleanup);

  try {
    let hostKey = await keygen(join(etc, 'ssh_host_ed25519_key'), '', 'cwfm-host');
    const clientKey = await keygen(join(etc, 'client_ed25519'), '', 'cwfm-client');
    const encKey = await keygen(join(etc, 'client_enc_ed25519'), passphrase, 'cwfm-client-enc');

    await useradd(username, home);
    userCreated = true;
    await run('chpasswd', [], `${username}:${password}\n`);
    const passwdLine = readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${username}:`));
    const [, , uidStr, gidStr] = (passwdLine ?? '').split(':');
    const uid = Number(uidStr);
    const gid = Number(gidStr);
    await mkdir(join(home, '.ssh'), { recursive: true });
    await writeFile(
      join(home, '.ssh', 'authorized_keys'),
      `${clientKey.publicKey}\n${encKey.publicKey}\n`,
    );
    await mkdir(root);
    for (const p of [home, join(home, '.ssh'), join(home, '.ssh', 'authorized_keys'), root]) {
      await chown(p, uid, gid);
    }
    await chmod(home, 0o755);
    await chmod(root, 0o755);

    const version = opensshVersion();
    let port = 0;
    const startTimeoutMs = options.startTimeoutMs ?? 10_000;

    const launch = async (): Promise<void> => {
      const proc = spawn(SSHD, ['-D', '-e', '-f', join(etc, 'sshd_config')], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      child = proc;
      let buffered = '';
      proc.stderr?.setEncoding('utf8');
      proc.stderr?.on('data', (chunk: string) => {
        buffered += chunk;
        let nl = buffered.indexOf('\n');
        while (nl >= 0) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          logTail.push(line);
          if (logTail.length > 40) logTail.shift();
          options.onLog?.(line);
          nl = buffered.indexOf('\n');
        }
      });
      exited = new Promise<void>((resolve) => {
        proc.once('exit', () => resolve());
        proc.once('error', () => resolve());
      });
      const deadline = Date.now() + startTimeoutMs;
      while (Date.now() < deadline) {
        if (proc.exitCode !== null || proc.signalCode !== null) break;
        if (await sshBanner(port)) return;
        await new Promise((r) => setTimeout(r, 50));
      }
      if (proc.exitCode === null) killTree(proc.pid as number);
      await exited;
      throw new Error(
        `sshd did not start on 127.0.0.1:${port}; last log lines:\n${logTail.slice(-10).join('\n')}`,
      );
    };

    // A port found free may be taken before sshd binds it: retry with another one.
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      await writeFile(
        join(etc, 'sshd_config'),
        sshdConfig({
          port,
          etc,
          username,
          logLevel: options.logLevel ?? 'INFO',
          denied: options.deniedSftpRequests ?? [],
          extra: options.extraConfig ?? [],
          version,
        }),
      );
      try {
        await launch();
        break;
      } catch (err) {
        if (attempt >= 3) throw err;
      }
    }

    const isRunning = () =>
      child !== undefined && child.exitCode === null && child.signalCode === null;

    const kill = async (): Promise<void> => {
      if (!isRunning() || child?.pid === undefined) return;
      killTree(child.pid);
      await exited;
    };

    const server: SshdServer = {
      host: '127.0.0.1',
      port,
      username,
      password,
      privateKey: clientKey.privateKey,
      privateKeyPath: join(etc, 'client_ed25519'),
      encryptedPrivateKey: encKey.privateKey,
      encryptedPrivateKeyPath: join(etc, 'client_enc_ed25519'),
      passphrase,
      get hostKeySha256() {
        return hostKey.sha256;
      },
      get hostPublicKey() {
        return hostKey.publicKey.split(' ').slice(0, 2).join(' ');
      },
      home,
      root,
      get running() {
        return isRunning();
      },
      opensshClientArgs(extra = []) {
        const knownHosts = join(etc, 'client_known_hosts');
        writeFileSync(knownHosts, `[127.0.0.1]:${port} ${server.hostPublicKey}\n`);
        return [
          '-i',
          server.privateKeyPath,
          '-P',
          String(port),
          '-o',
          `UserKnownHostsFile=${knownHosts}`,
          '-o',
          'BatchMode=yes',
          ...extra,
          `${username}@127.0.0.1`,
        ];
      },
      processIds() {
        if (!isRunning() || child?.pid === undefined) return [];
        return [child.pid, ...liveDescendants(child.pid)];
      },
      kill,
      async start() {
        if (removed) throw new Error('this sshd was stopped for good; call startSshd() again');
        if (isRunning()) return;
        await launch();
      },
      async restart() {
        await kill();
        await server.start();
      },
      async replaceHostKey() {
        const wasRunning = isRunning();
        await kill();
        const keyPath = join(etc, 'ssh_host_ed25519_key');
        await rm(keyPath, { force: true });
        await rm(`${keyPath}.pub`, { force: true });
        hostKey = await keygen(keyPath, '', 'cwfm-host');
        if (wasRunning) await server.start();
        return hostKey.sha256;
      },
      async stop() {
        if (removed) return;
        removed = true;
        await kill();
        live.delete(syncCleanup);
        await run('userdel', ['-r', '-f', username]).catch(() => undefined);
        userCreated = false;
        await rm(base, { recursive: true, force: true });
      },
    };
    return server;
  } catch (err) {
    live.delete(syncCleanup);
    syncCleanup();
    throw err;
  }
}
