/** The generated `sshd_config` of the sshd peer (sshd.ts). */
import { join } from 'node:path';

/** The `sshd_config` text of one server. */
export function sshdConfig(opts: {
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
