import type { EventPosition, RtaState } from './types.js';

/** Where an event sits in the stream (see {@link comparePosition}). */
export interface Position {
  readonly timeMs: number;
  readonly shardId: string;
  readonly sequenceNumber: string;
}

/** What the collapser knows about one agent. */
export class AgentEntry {
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
export function comparePosition(a: Position, b: Position): number {
  if (b.timeMs !== a.timeMs) return b.timeMs > a.timeMs ? 1 : -1;
  if (b.shardId !== a.shardId) return b.shardId > a.shardId ? 1 : -1;
  if (b.sequenceNumber === a.sequenceNumber) return 0;
  return BigInt(b.sequenceNumber) > BigInt(a.sequenceNumber) ? 1 : -1;
}

export function positionToJson(p: Position): EventPosition {
  return {
    eventTimestamp: new Date(p.timeMs).toISOString(),
    shardId: p.shardId,
    sequenceNumber: p.sequenceNumber,
  };
}

export function positionFromJson(p: EventPosition): Position {
  return {
    timeMs: Date.parse(p.eventTimestamp),
    shardId: p.shardId,
    sequenceNumber: p.sequenceNumber,
  };
}

/** Sort order of states (and exported agents) by `userCode`. */
export function byUserCode(a: { userCode: string }, b: { userCode: string }): number {
  return a.userCode < b.userCode ? -1 : a.userCode > b.userCode ? 1 : 0;
}
