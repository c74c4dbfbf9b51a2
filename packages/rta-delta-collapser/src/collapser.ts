import { configProblemsFrom, isSequenceNumber, MAX_STATE_CODE_LENGTH } from '@connect-wfm/core';
import { AgentEntry, byUserCode, comparePosition, type Position } from './agent-entry.js';
import { RecentIds } from './dedupe.js';
import { type CompiledDeriver, compileDeriver, DEFAULT_LOGGED_OUT_STATE } from './derive.js';
import { RtaCollapserOptionsError, RtaDeliveryStateError } from './errors.js';
import { parseAgentEvent } from './parse.js';
import {
  emptyResult,
  KNOWN_EVENT_TYPES,
  longCodeRejection,
  reportRejection,
  reportUnknownType,
} from './rejections.js';
import { type AgentEvent, collapserOptionsSchema } from './schema.js';
import { type ShardProgress, sequenceAfter, sortedShardPositions } from './shard-progress.js';
import { exportAgents, markDeliveredInState, restoreAgents } from './state-file.js';
import type {
  AgentEventRecord,
  BeginDeliveryOptions,
  ExportedCollapserState,
  IngestResult,
  Logger,
  RejectedRecord,
  RtaDelivery,
  RtaDeltaCollapserOptions,
  RtaState,
  ShardBatchLike,
  ShardPosition,
} from './types.js';

/** Default `dedupeWindow`. */
export const DEFAULT_DEDUPE_WINDOW = 100_000;

/**
 * Turns batches of Amazon Connect agent events (Kinesis records, possibly from several shards)
 * into the states the WFM must receive: it parses and validates each record, drops duplicate
 * `EventId`s (bounded memory), keeps per agent only the newest event (by `EventTimestamp`, then
 * shard and sequence number), derives its state (docs/rta-state-rules.md) and tracks what the WFM last
 * accepted, so each poll posts only the agents whose state changed. Pure: no I/O, no timers.
 *
 * @example
 * const collapser = new RtaDeltaCollapser({ includeChannel: true });
 * const result = collapser.ingestShardBatch({ shardId, records }); // SDK `_Record`s
 * for (const r of result.rejected) logger.warn('skipped record', r);
 * // Every poll: take the delta AND the state to commit at the same instant, then post.
 * const delivery = collapser.beginDelivery({ exportState: commitDue });
 * try {
 *   if (delivery.states.length > 0) await rtaClient.sendStates(delivery.states); // teleopti-rta-client
 *   collapser.completeDelivery(delivery); // the WFM answered 200
 * } catch (err) {
 *   collapser.abandonDelivery(delivery); // nothing marked: the next poll sends the newest states
 *   throw err;
 * }
 * if (delivery.state) await reader.checkpoint(delivery.positions, { state: delivery.state });
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
  /** Per shard, the last sequence number ingested (bad records included) and SHARD_END. */
  private readonly shards = new Map<string, ShardProgress>();
  /** The delivery taken by `beginDelivery` and not yet completed or abandoned. */
  private inFlightDelivery: RtaDelivery | undefined = undefined;
  private deliveries = 0;

  /**
   * @param options Derivation, de-duplication and reporting options; validated (unknown keys
   *   and wrong types throw `RtaCollapserOptionsError`, listing every problem).
   */
  constructor(options: RtaDeltaCollapserOptions = {}) {
    const parsed = collapserOptionsSchema.safeParse(options);
    if (!parsed.success) throw new RtaCollapserOptionsError(configProblemsFrom(parsed.error));
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
    const result = emptyResult();
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
      this.advance(record.shardId, record.sequenceNumber);
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
    const result = emptyResult();
    this.ingestNumber += 1;
    for (const batch of list) {
      const shardId = batch.shardId;
      for (const record of batch.records) {
        if (typeof record !== 'object' || record === null) {
          this.report(result, {
            shardId,
            sequenceNumber: '',
            kind: 'missing-data',
            reason: 'Kinesis record is not an object',
          });
          continue;
        }
        // The reader's records (`sequenceNumber`/`data`) or AWS SDK `_Record`s (`SequenceNumber`/`Data`).
        const r = record as { sequenceNumber?: unknown; data?: unknown } & {
          SequenceNumber?: unknown;
          Data?: unknown;
        };
        const seq = r.sequenceNumber ?? r.SequenceNumber;
        const sequenceNumber = typeof seq === 'string' ? seq : '';
        const data = r.data !== undefined ? r.data : r.Data;
        this.advance(shardId, sequenceNumber);
        if (data == null) {
          this.report(result, {
            shardId,
            sequenceNumber,
            kind: 'missing-data',
            reason: 'Kinesis record has no data',
          });
          continue;
        }
        this.ingestOne(shardId, sequenceNumber, data as Uint8Array, result);
      }
      if (typeof batch.lastSequenceNumber === 'string') {
        this.advance(shardId, batch.lastSequenceNumber);
      }
      if (batch.shardEnded === true) {
        const progress = this.progressOf(shardId);
        progress.shardEnded = true;
      }
    }
    return result;
  }

  private progressOf(shardId: string): ShardProgress {
    let progress = this.shards.get(shardId);
    if (progress === undefined) {
      progress = { lastSequenceNumber: null, shardEnded: false };
      this.shards.set(shardId, progress);
    }
    return progress;
  }

  /** Moves a shard's ingest position forward (never back); ignores malformed sequence numbers. */
  private advance(shardId: string, sequenceNumber: string): void {
    if (typeof shardId !== 'string' || shardId === '') return;
    if (typeof sequenceNumber !== 'string' || !isSequenceNumber(sequenceNumber)) return;
    const progress = this.progressOf(shardId);
    const last = progress.lastSequenceNumber;
    if (last === null || sequenceAfter(sequenceNumber, last)) {
      progress.lastSequenceNumber = sequenceNumber;
    }
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
    if (!KNOWN_EVENT_TYPES.has(event.EventType)) {
      reportUnknownType(event, shardId, sequenceNumber, result, this.logger);
    }
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
      this.report(result, longCodeRejection(state, event, shardId, sequenceNumber));
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
    this.report(result, longCodeRejection(state, event, shardId, sequenceNumber));
    return false;
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
    reportRejection(result, rejection, this.logger, this.onReject);
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
   * Starts a delivery, the safe way to post and persist (docs/rta-state-rules.md#delivery-and-commit):
   * takes, at one instant, the states to post (the delta, or with `snapshot: true` every known
   * agent), the shard positions they were derived from, and (unless `exportState: false`) the
   * collapser state in which these states already count as accepted. Post `states`; after the
   * WFM answered 200 call `completeDelivery`, then commit `positions` with `state`. On failure call
   * `abandonDelivery`: nothing is marked and the next delivery carries the newest states.
   *
   * Because `state` is taken before the POST, events ingested while the POST is in flight are not
   * in it and their records are not covered by `positions`: after a crash they are read again,
   * never restored as "pending" from an older state. One delivery at a time.
   *
   * @throws RtaDeliveryStateError when an earlier delivery was neither completed nor abandoned.
   * @example
   * const delivery = collapser.beginDelivery({ exportState: commitDue });
   * try {
   *   if (delivery.states.length > 0) await client.sendStates(delivery.states);
   *   collapser.completeDelivery(delivery);
   * } catch (err) {
   *   collapser.abandonDelivery(delivery);
   *   throw err;
   * }
   * if (delivery.state !== undefined) {
   *   await reader.checkpoint(delivery.positions, { state: delivery.state });
   * }
   */
  beginDelivery(options: BeginDeliveryOptions = {}): RtaDelivery {
    if (this.inFlightDelivery !== undefined) {
      throw new RtaDeliveryStateError(
        `delivery ${this.inFlightDelivery.id} is still in flight: call completeDelivery() after the WFM accepted it, or abandonDelivery() when the POST failed, before beginning another`,
      );
    }
    const kind = options.snapshot === true ? 'snapshot' : 'delta';
    const states = kind === 'snapshot' ? this.snapshot() : this.pendingDelta();
    const positions = this.shardPositions();
    let state: ExportedCollapserState | undefined;
    if (options.exportState !== false) {
      state = this.exportState();
      markDeliveredInState(state, states);
    }
    this.deliveries += 1;
    const delivery: RtaDelivery = { id: this.deliveries, kind, states, positions, state };
    this.inFlightDelivery = delivery;
    return delivery;
  }

  /** The delivery begun and not yet completed or abandoned, if any. */
  get deliveryInFlight(): RtaDelivery | undefined {
    return this.inFlightDelivery;
  }

  /**
   * Records that the WFM accepted a delivery (it answered 200; users it set aside as unknown count
   * as accepted too, so they are sent again only when their state changes). Agents that changed
   * again since `beginDelivery` stay pending with their newer state.
   *
   * @throws RtaDeliveryStateError when `delivery` is not the one in flight.
   * @example
   * collapser.completeDelivery(delivery);
   */
  completeDelivery(delivery: RtaDelivery): void {
    if (this.inFlightDelivery !== delivery) {
      throw new RtaDeliveryStateError(
        `delivery ${delivery.id} is not in flight (completed or abandoned already, or from another collapser)`,
      );
    }
    this.inFlightDelivery = undefined;
    this.markAccepted(delivery.states);
  }

  /**
   * Ends a delivery the WFM did not accept: nothing is marked accepted, and its states (or newer
   * ones) are in the next delta. Do not commit its `state`. Does nothing for a delivery that is
   * not in flight.
   *
   * @example
   * collapser.abandonDelivery(delivery);
   */
  abandonDelivery(delivery: RtaDelivery): void {
    if (this.inFlightDelivery === delivery) this.inFlightDelivery = undefined;
  }

  /**
   * Per shard, the last sequence number ingested so far (bad records included) and whether its
   * final batch was ingested, sorted by shard id. Positions move forward only.
   *
   * @example
   * for (const p of collapser.shardPositions()) console.log(p.shardId, p.lastSequenceNumber);
   */
  shardPositions(): ShardPosition[] {
    return sortedShardPositions(this.shards);
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
    return exportAgents(this.agents.values());
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
    const entries = restoreAgents(state, this.stayLoggedOutUntilLogin, this.loggedOut);
    this.agents.clear();
    this.dirty = [];
    this.recentIds.clear();
    this.inFlightDelivery = undefined;
    for (const entry of entries) {
      this.agents.set(entry.userCode, entry);
      if (entry.isPending()) this.markDirty(entry);
    }
  }
}
