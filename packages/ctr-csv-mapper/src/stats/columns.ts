/**
 * The statistics CSVs' columns, defined once (docs/historical-formats.md#interval-statistics).
 * The row objects (`queueRows`, `agentQueueRows`) and the hand-specialized `toCsv` are checked
 * against these lists by a test.
 */

/** Columns of the queue statistics CSV, in order. */
export const QUEUE_STATS_COLUMNS = [
  'interval_start',
  'interval_minutes',
  'queue_id',
  'queue_name',
  'talking_call_dur',
  'wrap_up_dur',
  'overflow_in_call_cnt',
  'overflow_out_call_cnt',
  'aband_call_cnt',
  'answ_call_cnt',
  'queued_and_answ_call_dur',
  'queued_and_aband_call_dur',
  'queued_answ_longest_que_dur',
  'queued_aband_longest_que_dur',
  'avg_avail_member_cnt',
  'ans_servicelevel_cnt',
  'wait_dur',
  'aband_short_call_cnt',
  'aband_within_sl_cnt',
] as const;

/** Columns of the agent-queue statistics CSV, in order. */
export const AGENT_QUEUE_STATS_COLUMNS = [
  'interval_start',
  'interval_minutes',
  'queue_id',
  'agent_username',
  'talking_call_dur',
  'wrap_up_dur',
  'answ_call_cnt',
  'transfer_out_call_cnt',
] as const;
