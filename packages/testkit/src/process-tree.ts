/**
 * Process-tree helpers for the sshd peer (sshd.ts): list a process's live descendants from
 * `/proc` and kill a whole tree without letting a forking child escape.
 */
import { readdirSync, readFileSync } from 'node:fs';

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

/** PIDs of every non-zombie descendant of `root`. */
export function liveDescendants(root: number): number[] {
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
export function killTree(rootPid: number): void {
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

/** Whether a process with this PID exists. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
