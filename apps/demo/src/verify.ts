/**
 * What the WFM received, compared with the simulator's truth: final agent states, the order the
 * WFM applied them in, contacts in the delivered CSV rows, interval statistics partials and the
 * quarantined objects.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type AgentQueueStatsTruthRow,
  addStatsPartials,
  type QueueStatsTruthRow,
  type RunSummary,
  type Simulation,
  type StatsPartialRow,
} from '@connect-wfm/connect-simulator';
import type { RtaReceiver } from '@connect-wfm/testkit';
import type { StatisticsOutputs } from './feeds.js';
import { statesAgree } from './tracker.js';

/** What a delivered file is, told by its header (docs/historical-formats.md). */
export type DeliveredKind = 'ctr' | 'queue-stats' | 'agent-queue-stats' | 'report';

/** A file delivered over SFTP. */
export interface DeliveredFile {
  readonly name: string;
  readonly kind: DeliveredKind;
  /** Data rows (lines after the header). */
  readonly rows: number;
  readonly bytes: number;
}

/** The interval statistics check. */
export interface StatisticsCheck {
  /** Queue rows (interval × queue) compared. */
  readonly queueRows: number;
  /** Agent-queue rows (interval × queue × agent) compared. */
  readonly agentQueueRows: number;
  /** Partial files added up. */
  readonly partialFiles: number;
  /** Contacts written to more than one Firehose object (counted once per partial, as delivered). */
  readonly contactsInSeveralObjects: number;
  /** Rows differing from the truth, described (first 20). */
  readonly mismatches: readonly string[];
}

/** The verification summary printed at the end. */
export interface VerificationSummary {
  readonly agents: number;
  readonly agentsMatching: number;
  readonly mismatched: readonly string[];
  /** Agents for which the WFM applied states out of the truth's order (a state went backwards). */
  readonly regressions: readonly string[];
  readonly agentEvents: number;
  readonly contacts: number;
  readonly contactsDelivered: number;
  readonly csvRows: number;
  /** CTR records the simulator wrote into Firehose objects (updates and duplicates included). */
  readonly ctrRecordsWritten: number;
  /**
   * Contacts whose delivered CSV rows are not exactly their written records, one row each
   * (first 20): a record lost, or delivered twice.
   */
  readonly rowCountMismatches: readonly string[];
  readonly files: number;
  readonly reportFiles: number;
  /** The interval statistics check, when the Lambda wrote statistics partials. */
  readonly statistics: StatisticsCheck | null;
  readonly injectedMalformedObjects: number;
  readonly quarantinedObjects: number;
  readonly latencyP50Ms: number | null;
  readonly latencyP99Ms: number | null;
  readonly notes: readonly string[];
  readonly simulation: RunSummary | undefined;
  /**
   * Wall-clock ms of the demo's phases: `setup` (peers, apps), `simulation` (the simulator's run
   * until its last write), `rtaCatchUp`, `drainsInFlight`, `finalDrain`.
   */
  readonly phasesMs?: Readonly<Record<string, number>>;
}

/** Minimal RFC 4180 splitter for one line without embedded newlines (our own CSV output). */
export function csvFields(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i <= line.length) {
    if (line[i] === '"') {
      let v = '';
      i++;
      while (i < line.length) {
        if (line[i] === '"' && line[i + 1] === '"') {
          v += '"';
          i += 2;
        } else if (line[i] === '"') {
          i++;
          break;
        } else v += line[i++];
      }
      out.push(v);
      i++;
    } else {
      const end = line.indexOf(',', i);
      const stop = end < 0 ? line.length : end;
      out.push(line.slice(i, stop));
      i = stop + 1;
    }
  }
  return out;
}

function kindOf(header: string): DeliveredKind {
  if (header.startsWith('Agent_ARN,')) return 'ctr';
  if (header.startsWith('interval_start,interval_minutes,queue_id,queue_name,'))
    return 'queue-stats';
  if (header.startsWith('interval_start,interval_minutes,queue_id,agent_username,')) {
    return 'agent-queue-stats';
  }
  return 'report';
}

function lines(text: string): string[] {
  return text.split('\n').filter((l) => l !== '');
}

/**
 * Lists the CSV files in the SFTP directory, reading only the ones not in `known`.
 *
 * @example
 * files = await listDelivered(sftp.root, files);
 */
export async function listDelivered(
  root: string,
  known: readonly DeliveredFile[],
): Promise<DeliveredFile[]> {
  const byName = new Map(known.map((f) => [f.name, f]));
  const names = (await readdir(root)).filter((n) => n.endsWith('.csv')).sort();
  const out: DeliveredFile[] = [];
  for (const name of names) {
    const seen = byName.get(name);
    if (seen !== undefined) {
      out.push(seen);
      continue;
    }
    const text = await readFile(join(root, name), 'utf8');
    const all = lines(text);
    out.push({
      name,
      kind: kindOf(all[0] ?? ''),
      rows: Math.max(0, all.length - 1),
      bytes: (await stat(join(root, name))).size,
    });
  }
  return out;
}

/** Agents for which the WFM applied states out of the truth's order (a subsequence check). */
function regressionsOf(sim: Simulation, receiver: RtaReceiver): string[] {
  const regressions: string[] = [];
  for (const a of sim.agentTruth()) {
    const applied = receiver.historyOf(a.username).map((h) => h.stateCode);
    const timeline = sim.timeline(a.username);
    let j = -1; // -1: before the agent's first event (logged out)
    let ok = true;
    for (const code of applied) {
      const lo = code.toLowerCase();
      const loggedOut = lo === 'logged-off' || lo === 'ccc logged out';
      if (loggedOut && j === -1) continue;
      let k = Math.max(j, 0);
      while (
        k < timeline.length &&
        !(loggedOut ? timeline[k]?.loggedOut : (timeline[k]?.stateCode.toLowerCase() ?? '') === lo)
      ) {
        k++;
      }
      if (k >= timeline.length) {
        ok = false;
        break;
      }
      j = k;
    }
    if (!ok) regressions.push(`${a.username}: applied ${applied.join(' > ')}`);
  }
  return regressions;
}

/** Rows of a statistics partial as column → cell. */
function statsRows(text: string): StatsPartialRow[] {
  const [header, ...data] = lines(text);
  const columns = csvFields(header ?? '');
  return data.map((line) => {
    const cells = csvFields(line);
    return Object.fromEntries(columns.map((c, i) => [c, cells[i] ?? '']));
  });
}

/** Compares truth and delivered rows by key; describes the first differences. */
function compareRows(
  what: string,
  truth: readonly object[],
  delivered: readonly object[],
  keyOf: (row: Record<string, unknown>) => string,
  out: string[],
): void {
  const got = new Map(delivered.map((r) => [keyOf(r as Record<string, unknown>), r]));
  const want = new Map(truth.map((r) => [keyOf(r as Record<string, unknown>), r]));
  for (const [key, row] of want) {
    const d = got.get(key) as Record<string, unknown> | undefined;
    if (d === undefined) out.push(`${what} ${key}: not delivered`);
    else {
      for (const [column, value] of Object.entries(row)) {
        if (d[column] !== value) {
          out.push(`${what} ${key}: ${column} delivered ${String(d[column])}, truth ${value}`);
        }
      }
    }
  }
  for (const key of got.keys()) if (!want.has(key)) out.push(`${what} ${key}: not in the truth`);
}

/**
 * Adds up the delivered statistics partials and compares them with the truth for per-object
 * partials (`intervalStats({ perObject: true })`: a contact written to n objects is in n
 * partials), per interval and queue, and per interval, queue and agent.
 */
function checkStatistics(
  sim: Simulation,
  outputs: StatisticsOutputs,
  partials: { queue: StatsPartialRow[]; agentQueue: StatsPartialRow[]; files: number },
  contactsInSeveralObjects: number,
): StatisticsCheck {
  // the Lambda's STATS_INTERVAL_MINUTES is left at its default, 15
  const truth = sim.intervalStats({ intervalMinutes: 15, perObject: true });
  const mismatches: string[] = [];
  const queue = outputs === 'queue' || outputs === 'both';
  const agentQueue = outputs === 'agent-queue' || outputs === 'both';
  if (queue) {
    compareRows(
      'queue',
      truth.queueRows,
      addStatsPartials<QueueStatsTruthRow>(partials.queue),
      (r) => `${r.interval_start} ${r.queue_id}`,
      mismatches,
    );
  }
  if (agentQueue) {
    compareRows(
      'agent-queue',
      truth.agentQueueRows,
      addStatsPartials<AgentQueueStatsTruthRow>(partials.agentQueue),
      (r) => `${r.interval_start} ${r.queue_id} ${r.agent_username}`,
      mismatches,
    );
  }
  return {
    queueRows: queue ? truth.queueRows.length : 0,
    agentQueueRows: agentQueue ? truth.agentQueueRows.length : 0,
    partialFiles: partials.files,
    contactsInSeveralObjects,
    mismatches: mismatches.slice(0, 20),
  };
}

/**
 * Builds the verification summary.
 *
 * @example
 * const summary = await verify({ sim, receiver, sftpRoot, files, quarantinedObjects: 1, latency, notes, simulation });
 */
export async function verify(input: {
  readonly sim: Simulation;
  readonly receiver: RtaReceiver;
  readonly sftpRoot: string | undefined;
  readonly files: readonly DeliveredFile[];
  readonly quarantinedObjects: number;
  readonly latency: { readonly p50: number | null; readonly p99: number | null };
  readonly notes: readonly string[];
  readonly simulation: RunSummary | undefined;
  /** The statistics partials the Lambda was configured to write. */
  readonly statistics: StatisticsOutputs;
  /** Contact id → Firehose objects it was written to (from the simulator's `object` events). */
  readonly objectsPerContact: ReadonlyMap<string, number>;
  /** Contact id → CTR records written for it, in all objects (updates and duplicates included). */
  readonly recordsPerContact: ReadonlyMap<string, number>;
}): Promise<VerificationSummary> {
  const { sim, receiver } = input;
  const view = receiver.states();
  const truth = sim.agentTruth();
  const mismatched = truth
    .filter(
      (a) =>
        !statesAgree(view.get(a.username)?.stateCode ?? null, a.state.stateCode, a.state.loggedOut),
    )
    .map(
      (a) =>
        `${a.username}: WFM ${view.get(a.username)?.stateCode ?? '-'} vs truth ${a.state.stateCode}`,
    );
  const delivered = new Map<string, number>();
  let csvRows = 0;
  const partials = {
    queue: [] as StatsPartialRow[],
    agentQueue: [] as StatsPartialRow[],
    files: 0,
  };
  for (const f of input.files) {
    if (input.sftpRoot === undefined || f.kind === 'report') continue;
    const text = await readFile(join(input.sftpRoot, f.name), 'utf8');
    if (f.kind === 'ctr') {
      for (const line of lines(text).slice(1)) {
        const id = csvFields(line)[6];
        if (id) delivered.set(id, (delivered.get(id) ?? 0) + 1);
        csvRows++;
      }
    } else {
      partials.files++;
      (f.kind === 'queue-stats' ? partials.queue : partials.agentQueue).push(...statsRows(text));
    }
  }
  const contacts = sim.contactTruth();
  const rowCountMismatches: string[] = [];
  let ctrRecordsWritten = 0;
  for (const [id, written] of input.recordsPerContact) {
    ctrRecordsWritten += written;
    const rows = delivered.get(id) ?? 0;
    if (rows !== written)
      rowCountMismatches.push(`${id}: ${written} records written, ${rows} rows`);
  }
  for (const [id, rows] of delivered) {
    if (!input.recordsPerContact.has(id))
      rowCountMismatches.push(`${id}: never written, ${rows} rows`);
  }
  let several = 0;
  for (const n of input.objectsPerContact.values()) if (n > 1) several++;
  return {
    agents: truth.length,
    agentsMatching: truth.length - mismatched.length,
    mismatched,
    regressions: regressionsOf(sim, receiver),
    agentEvents: sim.stats.agentEvents,
    contacts: contacts.length,
    contactsDelivered: contacts.filter((c) => delivered.has(c.contactId)).length,
    csvRows,
    ctrRecordsWritten,
    rowCountMismatches: rowCountMismatches.slice(0, 20),
    files: input.files.length,
    reportFiles: input.files.filter((f) => f.kind === 'report').length,
    statistics:
      input.statistics === 'none' || input.sftpRoot === undefined
        ? null
        : checkStatistics(sim, input.statistics, partials, several),
    injectedMalformedObjects: new Set(sim.injectedMalformedCtrs().map((m) => m.key)).size,
    quarantinedObjects: input.quarantinedObjects,
    latencyP50Ms: input.latency.p50,
    latencyP99Ms: input.latency.p99,
    notes: [...input.notes],
    simulation: input.simulation,
  };
}
