import type { BackoffPolicy, Logger } from '@connect-wfm/core';
import type { SftpUploadError } from './errors.js';

/**
 * When and how often transient failures are retried: `@connect-wfm/core`'s `BackoffPolicy`
 * (`baseMs`, `maxMs`, `jitter`) plus the number of attempts. The uploader's defaults are
 * `baseMs: 250`, `maxMs: 10000`, `jitter: 'equal'` (a random delay between half and all of
 * `min(maxMs, baseMs × 2ⁿ⁻¹)` before retry n).
 */
export interface SftpRetryPolicy extends BackoffPolicy {
  /**
   * Attempts per file in total (the first try included). `1` disables retries.
   * @default 5
   */
  readonly maxAttempts?: number | undefined;
  /** @deprecated The old name of `baseMs` (still accepted; not together with `baseMs`). */
  readonly baseDelayMs?: number | undefined;
  /** @deprecated The old name of `maxMs` (still accepted; not together with `maxMs`). */
  readonly maxDelayMs?: number | undefined;
}

/** Options of {@link SftpUploader}. */
export interface SftpUploaderOptions {
  /** Host name or IP address of the SFTP server. */
  host: string;
  /**
   * TCP port of the SFTP server.
   * @default 22
   */
  port?: number | undefined;
  /** User name to log in with. */
  username: string;
  /** Password (password authentication). Give `password`, `privateKey` or both. */
  password?: string | undefined;
  /** Private key in OpenSSH, PEM or PuTTY format (public key authentication). */
  privateKey?: string | Buffer | undefined;
  /** Passphrase of an encrypted `privateKey`. */
  passphrase?: string | undefined;
  /**
   * Expected host key fingerprint, in the form `ssh-keygen -lf` prints: `SHA256:<base64>`.
   * A server presenting another key is refused before authentication. Without it the
   * connection proceeds and a warning gives the fingerprint to pin (through `logger.warn`,
   * or `process.emitWarning` without a logger); see also
   * `uploader.presentedHostKeySha256`.
   * @default undefined (trust on first use, with a warning)
   */
  hostKeySha256?: string | undefined;
  /**
   * Remote directory the file names are relative to (absolute, or relative to the login
   * directory). Created with its parents when missing (see `createDirectories`).
   * @default '.'
   */
  remoteDir?: string | undefined;
  /**
   * Create missing remote directories (`mkdir -p`). When `false`, a missing directory is a
   * permanent `DIRECTORY_UNAVAILABLE` error.
   * @default true
   */
  createDirectories?: boolean | undefined;
  /**
   * Permissions of uploaded files, set exactly (`fsetstat` on the temporary file right after
   * it is opened, so neither the server's umask nor a leftover temporary file changes them).
   * @default 0o644
   */
  fileMode?: number | undefined;
  /**
   * Time allowed to open the TCP connection and finish the SSH handshake and authentication,
   * in milliseconds; opening the SFTP session after the login gets the same time again. A
   * timeout is a transient `TIMEOUT` (retried). At most 2147483647.
   * @default 20000
   */
  connectTimeoutMs?: number | undefined;
  /**
   * Time allowed for any single SFTP request to answer (or for a transfer to make progress),
   * in milliseconds. A transfer stalls when a write request stays unacknowledged that long
   * (time spent waiting for a slow body is not counted). A stall past it is a transient
   * `TIMEOUT`: the connection is dropped and the upload retried. At most 2147483647.
   * @default 30000
   */
  operationTimeoutMs?: number | undefined;
  /**
   * SSH keepalive interval in milliseconds (a dead peer is detected after 3 missed replies);
   * `0` disables keepalives.
   * @default 10000
   */
  keepaliveIntervalMs?: number | undefined;
  /** Retry policy for transient failures. */
  retry?: SftpRetryPolicy | undefined;
  /**
   * Size of each SFTP write request in bytes (servers cap it; OpenSSH accepts 255 KiB).
   * @default 261120
   */
  chunkSize?: number | undefined;
  /**
   * SFTP write requests kept in flight per file (pipelining). Memory per transfer stays
   * around `chunkSize * concurrency` whatever the file size.
   * @default 8
   */
  concurrency?: number | undefined;
  /**
   * Preferred ciphers, most favoured first (ssh2 names such as `aes128-gcm@openssh.com`).
   * A name ssh2 does not support is refused when the uploader is created (`INVALID_OPTIONS`).
   * @default ssh2's default list (AES-GCM first where the CPU has AES instructions)
   */
  ciphers?: readonly string[] | undefined;
  /**
   * Key exchange algorithms, most favoured first (ssh2 names such as `curve25519-sha256`);
   * unsupported names are refused when the uploader is created.
   * @default ssh2's default list
   */
  kexAlgorithms?: readonly string[] | undefined;
  /**
   * MAC algorithms, most favoured first (ssh2 names such as `hmac-sha2-256-etm@openssh.com`);
   * unsupported names are refused when the uploader is created.
   * @default ssh2's default list
   */
  macs?: readonly string[] | undefined;
  /**
   * Host key algorithms, most favoured first (ssh2 names such as `ssh-ed25519`); unsupported
   * names are refused when the uploader is created.
   * @default ssh2's default list
   */
  hostKeyAlgorithms?: readonly string[] | undefined;
  /**
   * Where log lines go. Without a logger nothing is logged, except the warning about an
   * unpinned host key, which then goes to `process.emitWarning` (code
   * `SFTP_HOST_KEY_NOT_PINNED`).
   * @default no logging
   */
  logger?: Logger | undefined;
}

/**
 * The body of a file: bytes, text (written as UTF-8) or a stream / async iterable of chunks
 * (read with backpressure; never held in memory as a whole).
 */
export type SftpBody = string | Uint8Array | AsyncIterable<Uint8Array | string>;

/** One file to upload. */
export interface SftpFile {
  /**
   * File name relative to `remoteDir`; may contain `/` to place it in sub-directories
   * (created as needed). `..`, empty segments, a leading `/` and NUL are refused.
   */
  name: string;
  /** The content. */
  body: SftpBody;
}

/** What a successful upload did. */
export interface SftpPutResult {
  /** The file name as given. */
  name: string;
  /** Remote path of the published file. */
  remotePath: string;
  /** Bytes written. */
  bytes: number;
  /** Attempts it took (1 when no retry was needed). */
  attempts: number;
  /** Whether an interrupted transfer was resumed from the temporary file after reconnecting. */
  resumed: boolean;
  /** How the temporary file was published: atomic `posix-rename` or `remove+rename`. */
  publishedWith: 'posix-rename' | 'rename' | 'remove+rename';
  /** Wall time of the upload, retries included, in milliseconds. */
  durationMs: number;
}

/** Outcome of one file of {@link SftpUploader.putMany}. */
export type SftpPutOutcome =
  | { name: string; ok: true; result: SftpPutResult }
  | { name: string; ok: false; error: SftpUploadError };
