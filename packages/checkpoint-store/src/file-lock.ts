/**
 * A cross-process lock file for the file backend.
 *
 * The lock is `<path>.lock`, holding `{ pid, host, nonce, at, start?, boot? }`: `start` is the
 * owner process's start time (field 22 of `/proc/<pid>/stat`) and `boot` the kernel boot id, both
 * where `/proc` exists (Linux). It is created atomically with its content (written to a temporary
 * file, then `link()`ed into place, which fails when the lock exists), so a process killed at any
 * instant never leaves a half-written lock.
 *
 * A lock of this host is stale when its owner is provably not a live process instance: the boot
 * id differs (the machine rebooted), the pid is dead, the pid is alive but started at another
 * time than recorded (the pid was reused, as after a container restart where the new process is
 * PID 1 again), or the pid is our own but this process instance did not take that lock (a lock
 * left by a previous incarnation with the same pid). Stale locks are removed while holding a
 * second, short-lived `<path>.lock.break` lock, after checking that the lock is still the same
 * stale one (nonce), so two processes breaking the same stale lock cannot remove a fresh one.
 *
 * A lock that one live owner keeps for `hungMs` while another process waits for it is taken
 * over as hung (a stopped or frozen process, which would otherwise block a standby forever).
 * The critical sections are short, so only a process that is not running keeps it that long.
 * The owner checks its lock right before it replaces the checkpoint file (`HeldLock.verify`) and
 * discards its write when the lock is gone, so a resumed owner cannot overwrite the newer file.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { link, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { backoffDelay, sleep } from '@connect-wfm/core';
import { LockTimeoutError } from './errors.js';
import type { Logger } from './types.js';

export interface LockContent {
  pid: number;
  host: string;
  nonce: string;
  at: number;
  /** Start time of the owner process (`/proc/<pid>/stat` field 22), when known. */
  start?: string;
  /** Kernel boot id of the owner's host, when known. */
  boot?: string;
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

/**
 * Start time of process `pid` in clock ticks since boot (field 22 of `/proc/<pid>/stat`), or
 * undefined where `/proc` is not available or the process is gone. Together with the boot id it
 * identifies one process instance, even when its pid is reused.
 */
export function processStartTime(pid: number): string | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // the command name (field 2) is in parentheses and may contain spaces or parentheses
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const start = fields[19];
  return start !== undefined && /^\d+$/.test(start) ? start : undefined;
}

let cachedBootId: string | null | undefined;

/** The kernel boot id (Linux), or undefined. */
export function bootId(): string | undefined {
  if (cachedBootId === undefined) {
    try {
      cachedBootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || null;
    } catch {
      cachedBootId = null;
    }
  }
  return cachedBootId ?? undefined;
}

/**
 * Nonces of the locks this process instance holds right now. A lock naming our pid whose nonce
 * is not here was left by an earlier process that had the same pid.
 */
const heldNonces = new Set<string>();

/** True when `lock` (of this host) was taken by a process instance that is still alive. */
export function lockOwnerAlive(lock: LockContent): boolean {
  const boot = bootId();
  if (lock.boot !== undefined && boot !== undefined && lock.boot !== boot) return false;
  if (lock.pid === process.pid) {
    if (heldNonces.has(lock.nonce)) return true;
    // Same pid, not taken by this module instance: it is ours only if it carries our own start
    // time (another copy of this module in this very process); otherwise a previous process
    // with the same pid (a restarted container's PID 1) left it behind.
    const mine = processStartTime(process.pid);
    return lock.start !== undefined && mine !== undefined && lock.start === mine;
  }
  if (!processAlive(lock.pid)) return false;
  if (lock.start === undefined) return true;
  const current = processStartTime(lock.pid);
  // pid alive but started at another time: the pid was reused by another process
  return current === undefined || current === lock.start;
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
      typeof parsed.at === 'number' &&
      (parsed.start === undefined || typeof parsed.start === 'string') &&
      (parsed.boot === undefined || typeof parsed.boot === 'string')
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
  /** True while the lock file is still this lock (not taken over as hung). */
  verify(): Promise<boolean>;
  release(): Promise<void>;
}

/**
 * Takes the lock file `lockPath`, waiting up to `timeoutMs`; removes stale locks of dead
 * processes on this host, and takes over a lock that one owner has kept for `hungMs` while
 * this process waited.
 */
export async function acquireFileLock(
  lockPath: string,
  timeoutMs: number,
  logger: Logger,
  hungMs = Number.POSITIVE_INFINITY,
): Promise<HeldLock> {
  const host = hostname();
  const mine: LockContent = {
    pid: process.pid,
    host,
    nonce: randomBytes(8).toString('hex'),
    at: Date.now(),
  };
  const start = processStartTime(process.pid);
  if (start !== undefined) mine.start = start;
  const boot = bootId();
  if (boot !== undefined) mine.boot = boot;
  const serialized = JSON.stringify(mine);
  const deadline = Date.now() + timeoutMs;
  let attempt = 0;
  let lastHolder: LockContent | undefined;
  // the lock seen last and since when (monotonic), to tell a hung owner from a busy file
  let seenRaw: string | undefined;
  let seenSince = 0;
  for (;;) {
    // registered before the lock exists, so a check by this process never sees it unowned
    heldNonces.add(mine.nonce);
    let created = false;
    try {
      created = await createExclusive(lockPath, serialized);
    } finally {
      if (!created) heldNonces.delete(mine.nonce);
    }
    if (created) {
      return {
        verify: async () => (await readLock(lockPath))?.raw === serialized,
        release: async () => {
          try {
            const current = await readLock(lockPath);
            if (current?.raw === serialized) await unlink(lockPath).catch(() => undefined);
          } finally {
            heldNonces.delete(mine.nonce);
          }
        },
      };
    }
    const current = await readLock(lockPath);
    if (current !== undefined) {
      lastHolder = current.content;
      if (await isStale(lockPath, current.content, host)) {
        await breakStaleLock(lockPath, current.raw, logger, 'stale');
        continue;
      }
      if (current.raw !== seenRaw) {
        seenRaw = current.raw;
        seenSince = performance.now();
      } else if (performance.now() - seenSince >= hungMs) {
        await breakStaleLock(lockPath, current.raw, logger, 'hung');
        seenRaw = undefined;
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
    attempt += 1;
    await sleep(backoffDelay(attempt, { baseMs: 2, maxMs: 40, jitter: 'equal' }));
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
  return content.host === host && !lockOwnerAlive(content);
}

async function breakStaleLock(
  lockPath: string,
  staleRaw: string,
  logger: Logger,
  why: 'stale' | 'hung',
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
      logger.warn(
        why === 'stale'
          ? 'removed a stale checkpoint lock file of a process that no longer runs'
          : 'took over a checkpoint lock file held too long by a process that does not release it (stopped or frozen); its pending write will be discarded',
        { lockPath, lock: staleRaw },
      );
    }
  } finally {
    await unlink(breakPath).catch(() => undefined);
  }
}
