import { RecentIds } from './dedupe.js';
import { type CompiledDeriver, compileDeriver, DEFAULT_LOGGED_OUT_STATE } from './derive.js';
import { RtaCollapserOptionsError, RtaStateImportError } from './errors.js';
import { parseAgentEvent } from './parse.js';
import {
  type AgentEvent,
  collapserOptionsSchema,
  exportedStateSchema,
  formatIssues,
} from './schema.js';
import type {
  AgentEventRecord,
  EventPosition,
  ExportedAgentState,
  ExportedCollapserState,
  IngestResult,
  Logger,
  RejectedRecord,
  RtaDeltaCollapserOptions,
  RtaState,
  ShardBatchLike,
} from './types.js';

/** Teleopti rejects (HTTP 500, retried forever) a state code longer than this. */
const MAX_STATE_CODE_LENGTH = 300;

/** Default `dedupeWindow`. */
export const DEFAULT_DEDUPE_WINDOW = 100_000;

/** Where an event sits in the stream (see {@link comparePosition}). */
interface Position {
  readonly timeMs: number;
  readonly shardId: string;
  readonly sequenceNumber: string;
}

/** What is known about one agent. */
class AgentEntry {
  /** Current state: the newest event's, or logged out while a `LOGOUT` waits for its `LOGIN`. */
  stateCode: string;
  stateDescription: string;
  /** The state derived from the newest event (differs from the current one only while logged out). */
  derivedCode: string;
  derivedDescription: string;
  /** The newest `LOGOUT` and `LOGIN` seen (tracked with `stayLoggedOutUntilLogin`). */
  logout: Position | undefined = undefined;
  login: Position | undefined = undefined;
  /** Position of the agent's newest applied event; `hasPosition` false = none yet. */
  hasPosition = false;
  timeMs = 0;
  shardId = '';
  sequenceNumber = '';
  /** What the WFM last accepted (undefined = nothing yet). */
  acceptedCode: string | undefined = undefined;
  acceptedDescription: string | undefined = undefined;
  /** In the collapser's dirty list (its state may differ from the accepted one). */
  dirty = false;
  /** Number of the last `ingest` call that changed this agent's state. */
  changedInIngest = 0;

  constructor(
    readonly userCode: string,
    stateCode: string,
    stateDescription: string,
  ) {
    this.stateCode = stateCode;
    this.stateDescription = stateDescription;
    this.derivedCode = stateCode;
    this.derivedDescription = stateDescription;
  }

  /** Logged out by a `LOGOUT` with no later `LOGIN`. */
  awaitingLogin(): boolean {
    const { logout, login } = this;
    return logout !== undefined && (login === undefined || comparePosition(login, logout) > 0);
  }

  isPending(): boolean {
    return (
      this.stateCode !== this.acceptedCode || this.stateDescription !== this.acceptedDescription
    );
  }

  toState(): RtaState {
    return {
      userCode: this.userCode,
      stateCode: this.stateCode,
      stateDescription: this.stateDescription,
    };
  }
}

/**
 * Total order of event positions: `EventTimestamp` first; on equal timestamps the higher shard
 * id (Kinesis gives a child shard a higher id than its parents, and resharding is how one agent's
 * events end up in two shards); within one shard the higher sequence number (as bigint).
 * Returns > 0 when `b` is after `a`, 0 when equal, < 0 when before.
 */
function comparePosition(a: Position, b: Position): number {
  if (b.timeMs !== a.timeMs) return b.timeMs > a.timeMs ? 1 : -1;
  if (b.shardId !== a.shardId) return b.shardId > a.shardId ? 1 : -1;
  if (b.sequenceNumber === a.sequenceNumber) return 0;
  return BigInt(b.sequenceNumber) > BigInt(a.sequenceNumber) ? 1 : -1;
}

function positionToJson(p: Position): EventPosition {
  return {
    eventTimestamp: new Date(p.timeMs).toISOString(),
    shardId: p.shardId,
    sequenceNumber: p.sequenceNumber,
  };
}

function positionFromJson(p: EventPosition): Position {
  return {
    timeMs: Date.parse(p.eventTimestamp),
    shardId: p.shardId,
    sequenceNumber: p.sequenceNumber,
  };
}

function byUserCode(a: RtaState, b: RtaState): number {
  return a.userCode < b.userCode ? -1 : a.userCode > b.userCode ? 1 : 0;
}

/**
 * Turns batches of Amazon Connect agent events (Kinesis records, possibly from several shards)
 * into the states the WFM must receive: it parses and validates each record, drops duplicate
 * `EventId`s (bounded memory), keeps per agent only the newest event (by `EventTimestamp`, then
 * shard and sequence number), derives its state (rta-state-rules.md) and tracks what the WFM last
 * accepted, so each poll posts only the agents whose state changed. Pure: no I/O, no timers.
 *
 * @example
 * const collapser = new RtaDeltaCollapser({ includeChannel: true });
 * const result = collapser.ingestShardBatch({ shardId, records }); // SDK `_Record`s
 * for (const r of result.rejected) logger.warn('skipped record', r);
 * const delta = collapser.pendingDelta();
 * if (delta.length > 0) {
 *   await rtaClient.postStates(delta); // throws if the WFM did not answer 200
 *   collapser.markAccepted(delta);    // only after success: a failed POST stays pending
 * }
 */
export class RtaDeltaCollapser {
  private readonly agents = new Map<string, AgentEntry>();
  /** Agents whose current state may differ from the accepted one (each once, `entry.dirty`). */
  private dirty: AgentEntry[] = [];
  /** Counts `ingest` calls, to count each changed agent once per call without a set. */
  private ingestNumber = 0;
  private readonly recentIds: RecentIds;
  private readonly derive: CompiledDeriver;
  private readonly stayLoggedOutUntilLogin: boolean;
  private readonly loggedOut: { readonly stateCode: string; readonly stateDescription: string };
  private readonly onReject: ((rejection: RejectedRecord) => void) | undefined;
  private readonly logger: Logger | undefined;

  /**
   * @param options Derivation, de-duplication and reporting options; validated (unknown keys
   *   and wrong types throw `RtaCollapserOptionsError`, listing every problem).
   */
  constructor(options: RtaDeltaCollapserOptions = {}) {
    const parsed = collapserOptionsSchema.safeParse(options);
    if (!parsed.success) throw new RtaCollapserOptionsError(formatIssues(parsed.error));
    const { dedupeWindow, stayLoggedOutUntilLogin, onReject, logger, ...deriveOptions } = options;
    this.derive = compileDeriver(deriveOptions);
    this.stayLoggedOutUntilLogin = stayLoggedOutUntilLogin ?? true;
    this.loggedOut = {
      stateCode: deriveOptions.loggedOut?.stateCode ?? DEFAULT_LOGGED_OUT_STATE.stateCode,
      stateDescription:
        deriveOptions.loggedOut?.stateDescription ?? DEFAULT_LOGGED_OUT_STATE.stateDescription,
    };
    this.recentIds = new RecentIds(dedupeWindow ?? DEFAULT_DEDUPE_WINDOW);
    this.onReject = onReject;
    this.logger = logger;
  }

  /** Number of agents known (seen in an event, imported, or marked accepted). */
  get agentCount(): number {
    return this.agents.size;
  }

  /**
   * Applies a batch of records (any mix of shards, any order). Each usable event becomes its
   * agent's current state if it is newer than the event that produced the current one. Bad
   * records are reported in `rejected` (and to `onReject`/`logger`) and skipped; this method
   * does not throw on record content.
   *
   * @example
   * const { accepted, duplicates, stale, rejected } = collapser.ingest([
   *   { shardId: 'shardId-000000000000', sequenceNumber: '4960…', data: bytes },
   * ]);
   */
  ingest(records: Iterable<AgentEventRecord>): IngestResult {
    const result: IngestResult = { accepted: 0, duplicates: 0, stale: 0, changed: 0, rejected: [] };
    this.ingestNumber += 1;
    for (const record of records) {
      if (typeof record !== 'object' || record === null) {
        this.report(result, {
          shardId: '',
          sequenceNumber: '',
          kind: 'missing-data',
          reason: 'record is not an object',
        });
        continue;
      }
      this.ingestOne(record.shardId, record.sequenceNumber, record.data, result);
    }
    return result;
  }

  /**
   * `ingest` for batches as `@connect-wfm/kinesis-shard-reader` yields them: one shard id and
   * AWS SDK `_Record`s (or several such batches). A record without `Data` (absent or `null`) or
   * `SequenceNumber` is rejected, never thrown.
   *
   * @example
   * for await (const batch of reader) {
   *   collapser.ingestShardBatch(batch); // { shardId, records: _Record[] }
   * }
   */
  ingestShardBatch(batches: ShardBatchLike | readonly ShardBatchLike[]): IngestResult {
    const list: readonly ShardBatchLike[] = Array.isArray(batches)
      ? (batches as readonly ShardBatchLike[])
      : [batches as ShardBatchLike];
    const result: IngestResult = { accepted: 0, duplicates: 0, stale: 0, changed: 0, rejected: [] };
    this.ingestNumber += 1;
    for (const batch of list) {
      for (const record of batch.records) {
        if (typeof record !== 'object' || record === null) {
          this.report(result, {
            shardId: batch.shardId,
            sequenceNumber: '',
            kind: 'missing-data',
            reason: 'Kinesis record is not an object',
          });
          continue;
        }
        const sequenceNumber = record.SequenceNumber ?? '';
        if (record.Data == null) {
          this.report(result, {
            shardId: batch.shardId,
            sequenceNumber,
            kind: 'missing-data',
            reason: 'Kinesis record has no Data',
          });
          continue;
        }
        this.ingestOne(batch.shardId, sequenceNumber, record.Data, result);
      }
    }
    return result;
  }

  private ingestOne(
    shardId: string,
    sequenceNumber: string,
    data: Uint8Array,
    result: IngestResult,
  ): void {
    const parsed = parseAgentEvent(data, { shardId, sequenceNumber });
    if (!parsed.ok) {
      this.report(result, parsed.rejection);
      return;
    }
    const event = parsed.event;
    const eventId = event.EventId;
    if (eventId != null && !this.recentIds.add(eventId)) {
      result.duplicates += 1;
      return;
    }
    const userCode = event.CurrentAgentSnapshot.Configuration.Username;
    let entry = this.agents.get(userCode);
    const at: Position = { timeMs: parsed.eventTimeMs, shardId, sequenceNumber };
    // A LOGOUT or LOGIN newer than the agent's last one of its kind counts for
    // stayLoggedOutUntilLogin even when it arrives after a newer event (order-independent).
    const type = event.EventType;
    const mark =
      this.stayLoggedOutUntilLogin && (type === 'LOGOUT' || type === 'LOGIN') ? type : undefined;
    let newerMark = false;
    if (mark !== undefined) {
      const last = mark === 'LOGOUT' ? entry?.logout : entry?.login;
      newerMark = last === undefined || comparePosition(last, at) > 0;
    }
    if (entry?.hasPosition) {
      const cmp = comparePosition(entry, at);
      if (cmp <= 0) {
        if (newerMark && this.usableMark(event, mark, shardId, sequenceNumber, result)) {
          // A late LOGOUT/LOGIN still counts, and so does a replay of the newest event itself
          // (a state file written before LOGOUT/LOGIN positions were exported).
          if (mark === 'LOGOUT') entry.logout = at;
          else entry.login = at;
          this.settle(entry, result);
        } else if (newerMark) {
          return; // rejected: its state code is not usable
        }
        if (cmp === 0) result.duplicates += 1;
        else result.stale += 1;
        return;
      }
    }
    const state = this.derive(event);
    if (state.stateCode.length > MAX_STATE_CODE_LENGTH) {
      this.rejectLongCode(state, event, shardId, sequenceNumber, result);
      return;
    }
    const isNew = entry === undefined;
    if (entry === undefined) {
      entry = new AgentEntry(userCode, state.stateCode, state.stateDescription);
      this.agents.set(userCode, entry);
    }
    entry.derivedCode = state.stateCode;
    entry.derivedDescription = state.stateDescription;
    if (newerMark) {
      if (mark === 'LOGOUT') entry.logout = at;
      else entry.login = at;
    }
    entry.hasPosition = true;
    entry.timeMs = at.timeMs;
    entry.shardId = shardId;
    entry.sequenceNumber = sequenceNumber;
    if (isNew) this.changed(entry, result);
    else this.settle(entry, result);
    result.accepted += 1;
  }

  /**
   * Whether a LOGIN/LOGOUT older than the agent's newest event may count: only if the event
   * itself is usable (a LOGIN whose derived state code is too long is rejected, as it is when it
   * arrives in order, so the outcome does not depend on the arrival order).
   */
  private usableMark(
    event: AgentEvent,
    mark: 'LOGIN' | 'LOGOUT' | undefined,
    shardId: string,
    sequenceNumber: string,
    result: IngestResult,
  ): boolean {
    if (mark !== 'LOGIN') return true;
    const state = this.derive(event);
    if (state.stateCode.length <= MAX_STATE_CODE_LENGTH) return true;
    this.rejectLongCode(state, event, shardId, sequenceNumber, result);
    return false;
  }

  private rejectLongCode(
    state: RtaState,
    event: AgentEvent,
    shardId: string,
    sequenceNumber: string,
    result: IngestResult,
  ): void {
    const rejection: RejectedRecord = {
      shardId,
      sequenceNumber,
      kind: 'invalid-state-code',
      reason: `derived state code for ${state.userCode} has ${state.stateCode.length} characters; the WFM accepts at most ${MAX_STATE_CODE_LENGTH} (shorten the status name or the mapping table code)`,
    };
    if (event.EventId != null) rejection.eventId = event.EventId;
    this.report(result, rejection);
  }

  /** Sets the current state from the newest event's, or logged out while awaiting a LOGIN. */
  private settle(entry: AgentEntry, result: IngestResult): void {
    const out = entry.awaitingLogin();
    const code = out ? this.loggedOut.stateCode : entry.derivedCode;
    const description = out ? this.loggedOut.stateDescription : entry.derivedDescription;
    if (entry.stateCode !== code || entry.stateDescription !== description) {
      entry.stateCode = code;
      entry.stateDescription = description;
      this.changed(entry, result);
    }
  }

  private changed(entry: AgentEntry, result: IngestResult): void {
    if (entry.changedInIngest !== this.ingestNumber) {
      entry.changedInIngest = this.ingestNumber;
      result.changed += 1;
    }
    this.markDirty(entry);
  }

  private markDirty(entry: AgentEntry): void {
    if (!entry.dirty) {
      entry.dirty = true;
      this.dirty.push(entry);
    }
  }

  private report(result: IngestResult, rejection: RejectedRecord): void {
    result.rejected.push(rejection);
    this.logger?.warn('rta-delta-collapser: skipped a record that is not a usable agent event', {
      ...rejection,
    });
    if (this.onReject !== undefined) {
      try {
        this.onReject(rejection);
      } catch (err) {
        this.logger?.error('rta-delta-collapser: onReject callback threw; ignored', {
          shardId: rejection.shardId,
          sequenceNumber: rejection.sequenceNumber,
          error: err instanceof Error ? err.message : String(err),
        });
      }
    }
  }

  /**
   * The agents whose current (code, description) differs from what the WFM last accepted
   * (never accepted counts as different), sorted by `userCode`: what the next ordinary POST must
   * carry. Calling it changes nothing; call `markAccepted` after the WFM answered 200.
   *
   * @example
   * const delta = collapser.pendingDelta();
   */
  pendingDelta(): RtaState[] {
    const out: RtaState[] = [];
    const stillDirty: AgentEntry[] = [];
    for (const entry of this.dirty) {
      if (entry.isPending()) {
        out.push(entry.toState());
        stillDirty.push(entry);
      } else {
        entry.dirty = false;
      }
    }
    this.dirty = stillDirty;
    return out.sort(byUserCode);
  }

  /**
   * The current state of every known agent, sorted by `userCode`: the content of a snapshot
   * request (`IsSnapshot: true`, one request). Mark it accepted after the WFM answered 200.
   *
   * @example
   * const states = collapser.snapshot();
   * await rtaClient.postSnapshot(states);
   * collapser.markAccepted(states);
   */
  snapshot(): RtaState[] {
    const out: RtaState[] = [];
    for (const entry of this.agents.values()) out.push(entry.toState());
    return out.sort(byUserCode);
  }

  /**
   * Records that the WFM accepted these states (call only after it answered 200). An agent whose
   * state changed again since the states were taken stays pending with its newer state. A state
   * for an agent never seen makes the agent known with that state.
   *
   * @example
   * collapser.markAccepted(delta);
   */
  markAccepted(states: Iterable<RtaState>): void {
    for (const state of states) {
      let entry = this.agents.get(state.userCode);
      if (entry === undefined) {
        entry = new AgentEntry(state.userCode, state.stateCode, state.stateDescription);
        this.agents.set(state.userCode, entry);
      }
      entry.acceptedCode = state.stateCode;
      entry.acceptedDescription = state.stateDescription;
      // A no-longer-pending entry leaves the dirty list at the next pendingDelta().
      if (entry.isPending()) this.markDirty(entry);
    }
  }

  /**
   * A JSON-serialisable copy of the state to persist: per agent the current state, the last
   * accepted state and the position of the event behind the current state (so ordering survives
   * a restart). Recent `EventId`s are not exported: after a restart a replayed event is dropped
   * by its position instead.
   *
   * @example
   * await writeFile('rta-state.json', JSON.stringify(collapser.exportState()));
   */
  exportState(): ExportedCollapserState {
    const agents: ExportedAgentState[] = [];
    for (const entry of this.agents.values()) {
      agents.push({
        userCode: entry.userCode,
        current: { stateCode: entry.stateCode, stateDescription: entry.stateDescription },
        accepted:
          entry.acceptedCode === undefined || entry.acceptedDescription === undefined
            ? null
            : { stateCode: entry.acceptedCode, stateDescription: entry.acceptedDescription },
        position: entry.hasPosition ? positionToJson(entry) : null,
        ...(entry.derivedCode !== entry.stateCode ||
        entry.derivedDescription !== entry.stateDescription
          ? {
              derived: {
                stateCode: entry.derivedCode,
                stateDescription: entry.derivedDescription,
              },
            }
          : {}),
        ...(entry.logout === undefined ? {} : { lastLogout: positionToJson(entry.logout) }),
        ...(entry.login === undefined ? {} : { lastLogin: positionToJson(entry.login) }),
      });
    }
    agents.sort((a, b) => (a.userCode < b.userCode ? -1 : a.userCode > b.userCode ? 1 : 0));
    return { version: 2, agents };
  }

  /**
   * Replaces this collapser's agents with a state written by `exportState()` (validated;
   * throws `RtaStateImportError` listing every problem, leaving the collapser unchanged). Call
   * it before ingesting. Agents whose current state differs from the accepted one are pending.
   * Recent `EventId`s are cleared.
   *
   * @example
   * collapser.importState(JSON.parse(await readFile('rta-state.json', 'utf8')));
   */
  importState(state: unknown): void {
    const parsed = exportedStateSchema.safeParse(state);
    if (!parsed.success) throw new RtaStateImportError(formatIssues(parsed.error));
    const seen = new Set<string>();
    const duplicates: string[] = [];
    for (const agent of parsed.data.agents) {
      if (seen.has(agent.userCode)) duplicates.push(`agents: duplicate userCode ${agent.userCode}`);
      seen.add(agent.userCode);
    }
    if (duplicates.length > 0) throw new RtaStateImportError(duplicates);

    this.agents.clear();
    this.dirty = [];
    this.recentIds.clear();
    for (const agent of parsed.data.agents) {
      const entry = new AgentEntry(
        agent.userCode,
        agent.current.stateCode,
        agent.current.stateDescription,
      );
      if (agent.accepted !== null) {
        entry.acceptedCode = agent.accepted.stateCode;
        entry.acceptedDescription = agent.accepted.stateDescription;
      }
      if (agent.position !== null) {
        entry.hasPosition = true;
        entry.timeMs = Date.parse(agent.position.eventTimestamp);
        entry.shardId = agent.position.shardId;
        entry.sequenceNumber = agent.position.sequenceNumber;
      }
      if (agent.derived !== undefined) {
        entry.derivedCode = agent.derived.stateCode;
        entry.derivedDescription = agent.derived.stateDescription;
      }
      if (this.stayLoggedOutUntilLogin) {
        if (agent.lastLogout !== undefined) entry.logout = positionFromJson(agent.lastLogout);
        if (agent.lastLogin !== undefined) entry.login = positionFromJson(agent.lastLogin);
      }
      // The current state follows from the rest under this collapser's options (a file written
      // with other options, or by hand, may disagree).
      const out = entry.awaitingLogin();
      entry.stateCode = out ? this.loggedOut.stateCode : entry.derivedCode;
      entry.stateDescription = out ? this.loggedOut.stateDescription : entry.derivedDescription;
      this.agents.set(agent.userCode, entry);
      if (entry.isPending()) this.markDirty(entry);
    }
  }
}
