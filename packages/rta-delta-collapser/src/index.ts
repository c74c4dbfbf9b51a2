export { DEFAULT_DEDUPE_WINDOW, RtaDeltaCollapser } from './collapser.js';
export {
  CONTACT_ACTIVITY_PRECEDENCE,
  CONTACT_STATE_ACTIVITY,
  type CompiledDeriver,
  createDeriver,
  DEFAULT_CHANNEL_PRECEDENCE,
  DEFAULT_CONTACT_STATE_MAPPING,
  DEFAULT_LOGGED_OUT_STATE,
  DEFAULT_SIGNED_OFF_STATUS_NAMES,
  deriveState,
} from './derive.js';
export {
  RtaCollapserError,
  type RtaCollapserErrorCode,
  RtaCollapserOptionsError,
  RtaDeliveryStateError,
  RtaStateImportError,
} from './errors.js';
export {
  type ParsedAgentEvent,
  type ParseResult,
  parseAgentEvent,
  type RecordMeta,
  type RejectedParse,
} from './parse.js';
export { type AgentEvent, agentEventSchema } from './schema.js';
export type {
  AgentEventRecord,
  BeginDeliveryOptions,
  ContactActivity,
  DeriveOptions,
  EventPosition,
  ExportedAgentState,
  ExportedCollapserState,
  IngestResult,
  KinesisRecordLike,
  Logger,
  ReaderRecordLike,
  RejectedRecord,
  RejectionKind,
  RtaDelivery,
  RtaDeltaCollapserOptions,
  RtaState,
  ShardBatchLike,
  ShardPosition,
  StateMapping,
  UnknownEventTypeRecord,
} from './types.js';
