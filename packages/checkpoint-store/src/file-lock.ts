/**
 * A cross-process lock file for the file backend.
 *
 * The lock is `<path>.lock`, holding `{ pid, host, nonce, at }`. It is created atomically with
 * its content (written to a temporary file, then `link()`ed into place, which fails when the
 * lock exists), so a process killed at any instant never leaves a half-written lock. A lock
 * whose pid is dead on this host is stale; it is removed while holding a second, short-lived
 * `<path>.lock.break` lock, after checking that the lock is still the same stale one (nonce),
 * so two processes breaking the same stale lock cannot remove a fresh one.
 */
import { randomBytes } from 'node:crypto';
import { link, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { LockTimeoutError } from './errors.js';
import type { CheckpointStoreLogger } from './types.js';

interface LockContent {
  pid: number;
  host: string;
  nonce: string;
  at: number;
}

/** How old a lock file that cannot be parsed (or a break lock) must be to count as stale. */
const UNPARSEABLE_STALE_MS = 10_000;
const BREAK_STALE_MS = 2_000;

function isErrno(err: unknown, code: string): boolean {
  // not `instanceof Error`: errors of Node's core modules come from another realm under Jest
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}

/** True when `pid` names a live process on this host. */
export function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return !isErrno(err, 'ESRCH');
  }
}

/** Creates `target` with `content` atomically; false when `target` exists already. */
async function createExclusive(target: string, content: string): Promise<boolean> {
  const tmp = `${target}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(tmp, content, { mode: 0o644 });
  try {
    await link(tmp, target);
    return true;
  } catch (err) {
    if (isErrno(err, 'EEXIST')) return false;
    throw err;
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

async function readLock(
  path: string,
): Promise<{ raw: string; content: LockContent | undefined } | undefined> {
  let raw: string;
  try {
    raw = await readFile(path, 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  }
  try {
    const parsed = JSON.parse(raw) as Partial<LockContent>;
    if (
      typeof parsed.pid === 'number' &&
      typeof parsed.host === 'string' &&
      typeof parsed.nonce === 'string' &&
      typeof parsed.at === 'number'
    ) {
      return { raw, content: parsed as LockContent };
    }
  } catch {
    // fall through: unparseable
  }
  return { raw, content: undefined };
}

async function ageMs(path: string): Promise<number | undefined> {
  try {
    return Date.now() - (await stat(path)).mtimeMs;
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  }
}

/** A held lock; `release()` removes it if it is still ours. */
export interface HeldLock {
  release(): Promise<void>;
}

/**
 * Takes the lock file `lockPath`, waiting up to `timeoutMs`; removes stale locks of dead
 * processes on this host.
 */
export async function acquireFileLock(
  lockPath: string,
  timeoutMs: number,
  logger: CheckpointStoreLogger,
): Promise<HeldLock> {
  const host = hostname();
  const mine: LockContent = {
    pid: process.pid,
    host,
    nonce: randomBytes(8).toString('hex'),
    at: Date.now(),
  };
  const serialized = JSON.stringify(mine);
  const deadline = Date.now() + timeoutMs;
  let delay = 1;
  let lastHolder: LockContent | undefined;
  for (;;) {
    if (await createExclusive(lockPath, serialized)) {
      return {
        release: async () => {
          const current = await readLock(lockPath);
          if (current?.raw === serialized) await unlink(lockPath).catch(() => undefined);
        },
      };
    }
    const current = await readLock(lockPath);
    if (current !== undefined) {
      lastHolder = current.content;
      if (await isStale(lockPath, current.content, host)) {
        await breakStaleLock(lockPath, current.raw, logger);
        continue;
      }
    }
    if (Date.now() >= deadline) {
      const who =
        lastHolder === undefined
          ? 'an unknown process'
          : `pid ${lastHolder.pid} on ${lastHolder.host} since ${new Date(lastHolder.at).toISOString()}`;
      throw new LockTimeoutError(
        `could not take the checkpoint file lock ${lockPath} within ${timeoutMs} ms: it is held by ${who}. Check that process; if it is gone from another host, remove the lock file by hand.`,
      );
    }
    await new Promise((r) => setTimeout(r, delay + Math.random() * delay));
    delay = Math.min(delay * 2, 20);
  }
}

async function isStale(
  path: string,
  content: LockContent | undefined,
  host: string,
): Promise<boolean> {
  if (content === undefined) {
    const age = await ageMs(path);
    return age !== undefined && age > UNPARSEABLE_STALE_MS;
  }
  return content.host === host && !processAlive(content.pid);
}

async function breakStaleLock(
  lockPath: string,
  staleRaw: string,
  logger: CheckpointStoreLogger,
): Promise<void> {
  const breakPath = `${lockPath}.break`;
  const breaker = JSON.stringify({ pid: process.pid, nonce: randomBytes(8).toString('hex') });
  if (!(await createExclusive(breakPath, breaker))) {
    const age = await ageMs(breakPath);
    if (age !== undefined && age > BREAK_STALE_MS) await unlink(breakPath).catch(() => undefined);
    return;
  }
  try {
    const current = await readLock(lockPath);
    if (current?.raw === staleRaw) {
      await unlink(lockPath).catch(() => undefined);
      logger.warn('removed a stale checkpoint lock file of a dead process', {
        lockPath,
        lock: staleRaw,
      });
    }
  } finally {
    await unlink(breakPath).catch(() => undefined);
  }
}
