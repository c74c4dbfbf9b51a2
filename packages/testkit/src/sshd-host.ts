/**
 * Host-side setup for the sshd peer (sshd.ts): running system commands, the root check,
 * installing OpenSSH, throwaway user accounts, the OpenSSH version, the banner probe and
 * sweeping servers/users left behind by test processes that died without cleanup.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killTree, pidAlive } from './process-tree.js';

/** Path of the OpenSSH server binary. */
export const SSHD = '/usr/sbin/sshd';
/** Prefix of each server's temp directory under `os.tmpdir()`. */
export const BASE_PREFIX = 'cwfm-sshd-';
/** Prefix of each throwaway user's name. */
export const USER_PREFIX = 'cwfm';

/** Runs a command (optionally feeding `input` on stdin); rejects with its stderr on a non-zero exit. */
export async function run(cmd: string, args: readonly string[], input?: string): Promise<string> {
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

/** Whether this process runs as root. */
export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** Makes sure `/usr/sbin/sshd` exists, installing `openssh-server` with apt when root on Debian. */
export function ensureSshdInstalled(): void {
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

/** Removes users and servers left behind by test processes that died without cleanup. */
export function sweepStale(): void {
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

/** Creates a throwaway user without a home directory on disk and with no login shell. */
export async function useradd(name: string, home: string): Promise<void> {
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

/** The installed OpenSSH version as a number (`9.8`), 0 when unknown. */
export function opensshVersion(): number {
  const res = spawnSync('ssh', ['-V'], { encoding: 'utf8' });
  const m = /OpenSSH_(\d+)\.(\d+)/.exec(`${res.stderr ?? ''}${res.stdout ?? ''}`);
  return m ? Number(`${m[1]}.${m[2]}`) : 0;
}

/** Whether 127.0.0.1:`port` answers with an `SSH-2.0-` banner. */
export async function sshBanner(port: number): Promise<boolean> {
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
