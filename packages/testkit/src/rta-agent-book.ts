/**
 * What the testkit's RTA receiver knows and records: the people (user codes) it has, the registered
 * state codes, each agent's current state per source, the snapshot-id bookkeeping, and the record
 * of every applied batch, applied state, closed snapshot and dropped state
 * (docs/teleopti-rta.md#server-generations). Internal to the receiver.
 */

import type { EventEmitter } from 'node:events';
import { RTA_SNAPSHOT_LOGGED_OUT_STATE } from './rta-protocol.js';
import type {
  RtaAgentState,
  RtaAppliedState,
  RtaClosedSnapshot,
  RtaDroppedState,
  RtaDropReason,
  RtaReceivedBatch,
  RtaReceivedState,
  RtaReceiverEvents,
} from './rta-receiver-types.js';
import type { ParsedState, QueuedBatch } from './rta-wire.js';

/** The configuration the book needs. */
export interface RtaAgentBookOptions {
  /** User codes that have a person; undefined: every non-empty user code has one. */
  knownUsers: readonly string[] | undefined;
  /** State codes of the logged-out state group (any casing). */
  loggedOutStateCodes: readonly string[];
  /** State codes registered up front and again after `clear()`. */
  stateCodes: readonly string[];
}

/** The receiver's data: agents, state codes, snapshots and the records of what was applied. */
export class RtaAgentBook {
  /** Every applied batch, in applied order. */
  readonly batches: RtaReceivedBatch[] = [];
  /** Every snapshot-id snapshot closed. */
  readonly closedSnapshots: RtaClosedSnapshot[] = [];
  /** Every state applied (snapshot log-outs included), in applied order, all agents. */
  readonly applied: RtaAppliedState[] = [];
  /** Every state the current server's worker dropped, in order. */
  readonly dropped: RtaDroppedState[] = [];

  readonly #events: EventEmitter<RtaReceiverEvents>;
  /** lower-case user code → the known user's spelling. */
  readonly #knownUsers: ReadonlyMap<string, string> | undefined;
  readonly #loggedOutCodes: ReadonlySet<string>;
  readonly #initialStateCodes: readonly string[];
  /** source id → lower-case user code → state. */
  readonly #agents = new Map<string, Map<string, RtaAgentState>>();
  /** snapshot-id mode: source id → lower-case user code → last snapshot id (ms). */
  readonly #seenInSnapshot = new Map<string, Map<string, number>>();
  readonly #stateCodes = new Map<string, string>();

  /** `events` receives `batch`, `closeSnapshot` and `dropped`. */
  constructor(events: EventEmitter<RtaReceiverEvents>, options: RtaAgentBookOptions) {
    this.#events = events;
    this.#knownUsers = options.knownUsers
      ? new Map(options.knownUsers.map((u) => [u.toLowerCase(), u]))
      : undefined;
    this.#loggedOutCodes = new Set(options.loggedOutStateCodes.map((c) => c.toLowerCase()));
    this.#initialStateCodes = options.stateCodes;
    this.#resetStateCodes();
  }

  /** Whether the server has a logged-out state group. */
  get hasLoggedOutGroup(): boolean {
    return this.#loggedOutCodes.size > 0;
  }

  /** The current state of an agent (user code matched case-insensitively). */
  stateOf(userCode: string, sourceId: string): RtaAgentState | undefined {
    return this.#agents.get(sourceId)?.get(userCode.toLowerCase());
  }

  /** A copy of the current state of every agent of a source, keyed by user code. */
  states(sourceId: string): Map<string, RtaAgentState> {
    return new Map([...(this.#agents.get(sourceId)?.values() ?? [])].map((s) => [s.userCode, s]));
  }

  /** The states applied to one agent (case-insensitive), in applied order. */
  historyOf(userCode: string, sourceId: string): RtaAppliedState[] {
    const key = userCode.toLowerCase();
    return this.applied.filter((s) => s.sourceId === sourceId && s.userCode.toLowerCase() === key);
  }

  /** Every registered state code, in registration order and casing. */
  stateCodes(): string[] {
    return [...this.#stateCodes.values()];
  }

  /** The known user's spelling of a user code, `undefined` when it has no person. */
  personOf(userCode: string): string | undefined {
    if (userCode === '') return undefined;
    if (!this.#knownUsers) return userCode;
    return this.#knownUsers.get(userCode.toLowerCase());
  }

  /** Forgets every record, agent state, received state code and open snapshot. */
  clear(): void {
    this.batches.length = 0;
    this.closedSnapshots.length = 0;
    this.applied.length = 0;
    this.dropped.length = 0;
    this.#agents.clear();
    this.#seenInSnapshot.clear();
    this.#resetStateCodes();
  }

  /** Current mode: what the worker does with one queued batch. */
  work(batch: QueuedBatch, sourceIds: readonly string[]): void {
    const now = new Date();
    const drop = (states: ParsedState[], reason: RtaDropReason) => {
      if (states.length === 0) return;
      const list = states.map(
        (s): RtaDroppedState => ({
          userCode: s.userCode,
          stateCode: s.stateCode,
          sourceId: batch.sourceId,
          reason,
          receivedAt: batch.receivedAt,
          droppedAt: now,
        }),
      );
      // A loop, not push(...list): a spread of a very large list overflows the stack.
      for (const d of list) this.dropped.push(d);
      this.#events.emit('dropped', list);
    };
    if (!sourceIds.includes(batch.sourceId)) {
      drop(batch.states, 'unknown-source');
      return;
    }
    if (this.#knownUsers === undefined && batch.states.every((s) => s.userCode !== '')) {
      this.apply(batch, 200, undefined, undefined);
      return;
    }
    drop(
      batch.states.filter((s) => this.personOf(s.userCode) === undefined),
      'unknown-user',
    );
    const known = batch.states.filter((s) => this.personOf(s.userCode) !== undefined);
    this.apply({ ...batch, states: known }, 200, undefined, undefined);
  }

  /**
   * Applies a batch's states (of known users), logs out the rest of the source's agents when it
   * is a snapshot, records the batch and emits `batch`.
   *
   * @param status the status answered for the request.
   * @param snapshotAt snapshot-id mode: the chunk's snapshot id (ms), remembered per agent.
   * @param snapshotIdText snapshot-id mode: the snapshot id as sent.
   */
  apply(
    batch: QueuedBatch,
    status: number,
    snapshotAt: number | undefined,
    snapshotIdText: string | undefined,
  ): void {
    const now = new Date();
    const { sourceId } = batch;
    let agents = this.#agents.get(sourceId);
    if (!agents) {
      agents = new Map();
      this.#agents.set(sourceId, agents);
    }
    const index = this.batches.length;
    const received: RtaReceivedState[] = [];
    const present = new Set<string>();
    for (const s of batch.states) {
      const userCode = this.personOf(s.userCode) ?? s.userCode;
      const key = userCode.toLowerCase();
      const previous = agents.get(key);
      const state: RtaAgentState = {
        userCode: previous?.userCode ?? userCode,
        sourceId,
        stateCode: this.#registerStateCode(s.stateCode),
        stateDescription: s.stateDescription ?? '',
        receivedAt: batch.receivedAt,
        appliedAt: now,
        loggedOutBySnapshot: false,
      };
      agents.set(key, state);
      present.add(key);
      this.applied.push({ ...state, batchIndex: index, isSnapshot: batch.isSnapshot });
      const r: RtaReceivedState = { userCode: s.userCode, stateCode: s.stateCode };
      if (s.stateDescription !== undefined) r.stateDescription = s.stateDescription;
      if (snapshotIdText !== undefined) r.snapshotId = snapshotIdText;
      received.push(r);
      if (snapshotAt !== undefined) {
        let seen = this.#seenInSnapshot.get(sourceId);
        if (!seen) {
          seen = new Map();
          this.#seenInSnapshot.set(sourceId, seen);
        }
        seen.set(key, snapshotAt);
      }
    }
    // Without a logged-out state group a current server logs nobody out.
    const loggedOut =
      batch.isSnapshot && this.#loggedOutCodes.size > 0
        ? this.#logOutAllBut(sourceId, present, now, index, batch.receivedAt)
        : [];
    const applied: RtaReceivedBatch = {
      index,
      receivedAt: batch.receivedAt,
      appliedAt: now,
      endpoint: batch.endpoint,
      isSnapshot: batch.isSnapshot,
      sourceId,
      states: received,
      loggedOut,
      status,
    };
    this.batches.push(applied);
    this.#events.emit('batch', applied);
  }

  /**
   * snapshot-id mode: closes a snapshot, logging out every agent of the source not seen with that
   * id; records it and emits `closeSnapshot`.
   */
  closeSnapshot(sourceId: string, snapshotAt: number, snapshotId: string, receivedAt: Date): void {
    const now = new Date();
    const seen = this.#seenInSnapshot.get(sourceId);
    const present = new Set<string>();
    for (const [key, at] of seen ?? []) if (at === snapshotAt) present.add(key);
    const closed: RtaClosedSnapshot = {
      receivedAt,
      sourceId,
      snapshotId,
      loggedOut: this.#logOutAllBut(sourceId, present, now, -1, receivedAt),
    };
    this.closedSnapshots.push(closed);
    this.#events.emit('closeSnapshot', closed);
  }

  #logOutAllBut(
    sourceId: string,
    present: ReadonlySet<string>,
    now: Date,
    batchIndex: number,
    receivedAt: Date,
  ): string[] {
    const loggedOut: string[] = [];
    const agents = this.#agents.get(sourceId);
    if (!agents) return loggedOut;
    const code = this.#registerStateCode(RTA_SNAPSHOT_LOGGED_OUT_STATE);
    for (const [key, state] of agents) {
      if (present.has(key) || this.#isLoggedOut(state)) continue;
      const next: RtaAgentState = {
        userCode: state.userCode,
        sourceId,
        stateCode: code,
        stateDescription: RTA_SNAPSHOT_LOGGED_OUT_STATE,
        receivedAt,
        appliedAt: now,
        loggedOutBySnapshot: true,
      };
      agents.set(key, next);
      this.applied.push({ ...next, batchIndex, isSnapshot: true });
      loggedOut.push(state.userCode);
    }
    return loggedOut;
  }

  #resetStateCodes(): void {
    this.#stateCodes.clear();
    for (const code of this.#initialStateCodes) this.#registerStateCode(code);
  }

  #registerStateCode(code: string): string {
    const key = code.toLowerCase();
    const known = this.#stateCodes.get(key);
    if (known !== undefined) return known;
    this.#stateCodes.set(key, code);
    return code;
  }

  #isLoggedOut(state: RtaAgentState): boolean {
    return state.loggedOutBySnapshot || this.#loggedOutCodes.has(state.stateCode.toLowerCase());
  }
}
