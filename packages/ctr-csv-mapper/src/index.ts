/**
 * @connect-wfm/ctr-csv-mapper: streaming Amazon Connect contact trace records (Firehose objects)
 * to the WFM's CSV files, interval statistics and the agent performance report.
 */
export {
  AGENT_PERFORMANCE_COLUMNS,
  agentPerformancePassThrough,
  DEFAULT_MAX_REPORT_BYTES,
  mapAgentPerformanceReport,
  normalizeHeader,
  parseReportDuration,
} from './agent-performance.js';
export { ctrCsvStream, type FirehoseItemSource, firehoseObjectToCsv } from './csv.js';
export { arnId, csvField, csvLine } from './csv-field.js';
export {
  CTR_CSV_COLUMNS,
  CTR_CSV_HEADER,
  CTR_CSV_SPEC,
  csvFileNameFor,
  ctrCsvRow,
} from './ctr-columns.js';
export {
  AgentReportHeaderError,
  AgentReportTooLargeError,
  AgentReportValueError,
  CtrMapperError,
  type CtrMapperErrorCode,
  InputFailedError,
  InvalidOptionsError,
  InvalidSnapshotError,
} from './errors.js';
export { DEFAULT_MAX_RECORD_BYTES, readFirehoseBatches, readFirehoseRecords } from './reader.js';
export { DEFAULT_MAX_BAD_BYTES } from './scanner.js';
export { ctrSchema } from './schema.js';
export {
  AGENT_QUEUE_STATS_COLUMNS,
  computeIntervalStats,
  IntervalStatsAccumulator,
  type IntervalStatsSnapshot,
  QUEUE_STATS_COLUMNS,
} from './stats.js';
export type * from './types.js';
