/**
 * A real OpenSSH `sshd` on 127.0.0.1 for SFTP tests, benchmarks and the demo.
 *
 * Each server gets a generated config, an ed25519 host key, a port chosen at run time and a
 * throwaway local user (password + authorized keys) whose home lives under a temp directory.
 * `kill()`/`start()`/`restart()` simulate a crash of the server (the listener and every
 * per-connection process die, files and user stay); `stop()` removes everything.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';
import { killTree, liveDescendants } from './process-tree.js';
import { keygen } from './ssh-keys.js';
import { sshdConfig } from './sshd-config.js';
import {
  BASE_PREFIX,
  ensureSshdInstalled,
  isRoot,
  opensshVersion,
  run,
  SSHD,
  sshBanner,
  sweepStale,
  USER_PREFIX,
  useradd,
} from './sshd-host.js';

export { generateSshKeyPair, type SshKeyPair } from './ssh-keys.js';

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

const live = new Set<() => void>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const cleanup of live) cleanup();
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
