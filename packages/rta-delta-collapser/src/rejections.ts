import { MAX_STATE_CODE_LENGTH } from '@connect-wfm/core';
import type { AgentEvent } from './schema.js';
import type {
  IngestResult,
  Logger,
  RejectedRecord,
  RtaState,
  UnknownEventTypeRecord,
} from './types.js';

/** Ingest results and how skipped records and unknown event types are reported. */

/** The event types Connect documents for the agent event stream. */
export const KNOWN_EVENT_TYPES: ReadonlySet<string> = new Set([
  'LOGIN',
  'LOGOUT',
  'STATE_CHANGE',
  'HEART_BEAT',
]);

export function emptyResult(): IngestResult {
  return {
    accepted: 0,
    duplicates: 0,
    stale: 0,
    changed: 0,
    rejected: [],
    unknownEventTypes: [],
  };
}

/** Adds a rejection to the result and tells the logger and `onReject` (whose throw is logged). */
export function reportRejection(
  result: IngestResult,
  rejection: RejectedRecord,
  logger: Logger | undefined,
  onReject: ((rejection: RejectedRecord) => void) | undefined,
): void {
  result.rejected.push(rejection);
  logger?.warn('rta-delta-collapser: skipped a record that is not a usable agent event', {
    ...rejection,
  });
  if (onReject !== undefined) {
    try {
      onReject(rejection);
    } catch (err) {
      logger?.error('rta-delta-collapser: onReject callback threw; ignored', {
        shardId: rejection.shardId,
        sequenceNumber: rejection.sequenceNumber,
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }
}

/** The rejection of an event whose derived state code is longer than the WFM accepts. */
export function longCodeRejection(
  state: RtaState,
  event: AgentEvent,
  shardId: string,
  sequenceNumber: string,
): RejectedRecord {
  const rejection: RejectedRecord = {
    shardId,
    sequenceNumber,
    kind: 'invalid-state-code',
    reason: `derived state code for ${state.userCode} has ${state.stateCode.length} characters; the WFM accepts at most ${MAX_STATE_CODE_LENGTH} (shorten the status name or the mapping table code)`,
  };
  if (event.EventId != null) rejection.eventId = event.EventId;
  return rejection;
}

/** Notes an event of an unknown `EventType` in the result and warns the logger. */
export function reportUnknownType(
  event: AgentEvent,
  shardId: string,
  sequenceNumber: string,
  result: IngestResult,
  logger: Logger | undefined,
): void {
  const notice: UnknownEventTypeRecord = {
    shardId,
    sequenceNumber,
    eventType: event.EventType.slice(0, 100),
  };
  if (event.EventId != null) notice.eventId = event.EventId;
  result.unknownEventTypes.push(notice);
  logger?.warn(
    'rta-delta-collapser: event of an unknown EventType; derived from its CurrentAgentSnapshot',
    { ...notice },
  );
}
