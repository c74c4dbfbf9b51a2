/** ed25519 key generation with `ssh-keygen`, for the sshd peer (sshd.ts) and tests. */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from './sshd-host.js';

/** A generated ed25519 key pair. */
export interface SshKeyPair {
  /** OpenSSH private key (PEM). */
  privateKey: string;
  /** Public key line (`ssh-ed25519 AAAA… comment`). */
  publicKey: string;
  /** Fingerprint as `ssh-keygen -lf` prints it: `SHA256:<base64>`. */
  sha256: string;
}

/** The `SHA256:<base64>` fingerprint of a public key file. */
export async function fingerprint(pubKeyPath: string): Promise<string> {
  const out = await run('ssh-keygen', ['-l', '-E', 'sha256', '-f', pubKeyPath]);
  const fp = out.trim().split(/\s+/)[1];
  if (fp === undefined || !fp.startsWith('SHA256:')) {
    throw new Error(`unexpected ssh-keygen -lf output: ${out}`);
  }
  return fp;
}

/** Generates an ed25519 key pair at `path` (and `path.pub`) and reads it back. */
export async function keygen(
  path: string,
  passphrase: string,
  comment: string,
): Promise<SshKeyPair> {
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
