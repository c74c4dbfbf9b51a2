/**
 * @connect-wfm/connect-simulator: a seeded Amazon Connect contact center that writes what Connect
 * writes (agent events to Kinesis, CTRs as Firehose objects and the agent performance report to
 * S3) and exposes the ground truth.
 */

export type { ConfigProblem, Logger } from '@connect-wfm/core';
export {
  type KmsEnvelopeEncryptorOptions,
  kmsEnvelopeEncryptor,
  type ObjectEncryptor,
} from './encryption.js';
export { SimulatorError, type SimulatorErrorCode, SimulatorOptionsError } from './errors.js';
export { defaultStart, Simulation, TRUTH_LOGGED_OUT_CODE } from './model.js';
export {
  ConnectSimulator,
  type ConnectSimulatorEvents,
  type ConnectSimulatorOptions,
  type RunSummary,
  type WrittenAgentEvent,
} from './runner.js';
export { agentEventSchema, contactTraceRecordSchema } from './schema.js';
export {
  KinesisAgentEventSink,
  type KinesisAgentEventSinkOptions,
  MemorySink,
  type PutRecordOutcome,
  S3ObjectSink,
  type S3ObjectSinkOptions,
  type SimulatorSink,
} from './sinks.js';
export { addStatsPartials, type StatsPartialRow } from './stats.js';
export type * from './types.js';
