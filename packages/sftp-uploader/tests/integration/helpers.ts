import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { SshdServer } from '@connect-wfm/testkit';
import type { Logger, SftpUploaderOptions } from '../../src/index.js';

/** A logger that records every line, for assertions. */
export interface RecordingLogger extends Logger {
  lines: Array<{ level: string; message: string; context: Record<string, unknown> | undefined }>;
}

export function recordingLogger(): RecordingLogger {
  const lines: RecordingLogger['lines'] = [];
  const at =
    (level: string) =>
    (message: string, context?: Record<string, unknown>): void => {
      lines.push({ level, message, context });
    };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** Overrides for {@link optionsFor}; `undefined` removes an option. */
export type OptionOverrides = {
  [K in keyof SftpUploaderOptions]?: SftpUploaderOptions[K] | undefined;
};

/** Uploader options for the test server (password auth, pinned host key, fast retries). */
export function optionsFor(sshd: SshdServer, overrides: OptionOverrides = {}): SftpUploaderOptions {
  const merged: Record<string, unknown> = {
    host: sshd.host,
    port: sshd.port,
    username: sshd.username,
    password: sshd.password,
    hostKeySha256: sshd.hostKeySha256,
    remoteDir: sshd.root,
    retry: { maxAttempts: 3, baseDelayMs: 20, maxDelayMs: 200 },
    ...overrides,
  };
  for (const key of Object.keys(merged)) if (merged[key] === undefined) delete merged[key];
  return merged as unknown as SftpUploaderOptions;
}

/** Everything an error exposes, flattened to text (message, stack, cause chain, JSON). */
export function errorText(err: unknown): string {
  const parts: string[] = [];
  let current: unknown = err;
  for (let depth = 0; current !== undefined && depth < 10; depth++) {
    if (current instanceof Error) {
      parts.push(current.message, current.stack ?? '', JSON.stringify(current));
      current = (current as { cause?: unknown }).cause;
    } else {
      parts.push(String(current));
      break;
    }
  }
  return parts.join('\n');
}

/** Whether `entry` is one of the uploader's temporary names for `name`: `.<name>.<16 random>.part`. */
export function isTempFor(entry: string, name: string): boolean {
  return (
    entry.startsWith(`.${name}.`) &&
    entry.endsWith('.part') &&
    /^[A-Za-z0-9_-]{16}$/.test(entry.slice(name.length + 2, -'.part'.length))
  );
}

/** The local path of the uploader's temporary file for `name` in `dir`, if there is one. */
export function tempPathOf(dir: string, name: string): string | undefined {
  const entries = existsSync(dir) ? readdirSync(dir) : [];
  const found = entries.find((e) => isTempFor(e, name));
  return found === undefined ? undefined : join(dir, found);
}

/** Size of the uploader's temporary file for `name` in `dir` (0 when there is none). */
export function tempSize(dir: string, name: string): number {
  const path = tempPathOf(dir, name);
  if (path === undefined) return 0;
  try {
    return statSync(path).size;
  } catch {
    return 0; // renamed or removed meanwhile
  }
}
