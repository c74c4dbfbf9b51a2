/**
 * Interval statistics the WFM should compute, derived from the model's contacts
 * (docs/historical-formats.md#interval-statistics).
 */
import { figures } from './ctr-record.js';
import { type AgentRt, type Contact, MINUTE, SECOND } from './entities.js';
import { arnId, isoSeconds } from './render.js';
import type { AgentQueueStatsTruthRow, IntervalSettings, QueueStatsTruthRow } from './types.js';

/** Queue and agent-queue interval rows of the contacts whose CTR was written, sorted. */
export function intervalStats(
  contacts: Iterable<Contact>,
  settings: IntervalSettings,
): {
  queueRows: QueueStatsTruthRow[];
  agentQueueRows: AgentQueueStatsTruthRow[];
} {
  const minutes = settings.intervalMinutes ?? 15;
  const perObject = settings.perObject ?? false;
  const sla = (settings.slaSeconds ?? 20) * SECOND;
  const shortAb = (settings.shortAbandonSeconds ?? 5) * SECOND;
  const q = new Map<string, Record<string, number | string>>();
  const aq = new Map<string, Record<string, number | string>>();
  for (const c of contacts) {
    if (c.versions === 0 || c.queue === null || c.enqueuedAt === null) continue;
    // with perObject, a contact in n objects is counted n times (maxima are unchanged)
    const n = perObject ? c.objects : 1;
    if (n === 0) continue;
    const iv = Math.floor(c.enqueuedAt / (minutes * MINUTE)) * minutes * MINUTE;
    const qid = arnId(c.queue.arn);
    const key = `${iv}|${qid}`;
    const row = q.get(key) ?? {
      interval_start: isoSeconds(iv),
      interval_minutes: minutes,
      queue_id: qid,
      queue_name: c.queue.name,
      talking_call_dur: 0,
      wrap_up_dur: 0,
      overflow_in_call_cnt: 0,
      overflow_out_call_cnt: 0,
      aband_call_cnt: 0,
      answ_call_cnt: 0,
      queued_and_answ_call_dur: 0,
      queued_and_aband_call_dur: 0,
      queued_answ_longest_que_dur: 0,
      queued_aband_longest_que_dur: 0,
      ans_servicelevel_cnt: 0,
      aband_short_call_cnt: 0,
      aband_within_sl_cnt: 0,
    };
    q.set(key, row);
    const add = (k: string, v: number) => {
      row[k] = (row[k] as number) + v * n;
    };
    const qms = (c.dequeuedAt ?? c.disconnectedAt ?? c.enqueuedAt) - c.enqueuedAt;
    const qs = qms / SECOND;
    const answered = c.connectedAt !== null && c.agent !== null;
    if (c.transferTo !== null) add('overflow_in_call_cnt', 1);
    if (c.transferAt !== null) add('overflow_out_call_cnt', 1);
    if (answered) {
      const f = figures(c);
      add('talking_call_dur', f.talk);
      add('wrap_up_dur', f.acw);
      add('answ_call_cnt', 1);
      add('queued_and_answ_call_dur', qs);
      row.queued_answ_longest_que_dur = Math.max(row.queued_answ_longest_que_dur as number, qs);
      if (qms < sla) add('ans_servicelevel_cnt', 1);
      const agentName = (c.agent as AgentRt).def.username;
      const akey = `${iv}|${qid}|${agentName}`;
      const arow = aq.get(akey) ?? {
        interval_start: isoSeconds(iv),
        interval_minutes: minutes,
        queue_id: qid,
        agent_username: agentName,
        talking_call_dur: 0,
        wrap_up_dur: 0,
        answ_call_cnt: 0,
        transfer_out_call_cnt: 0,
      };
      aq.set(akey, arow);
      arow.talking_call_dur = (arow.talking_call_dur as number) + f.talk * n;
      arow.wrap_up_dur = (arow.wrap_up_dur as number) + f.acw * n;
      arow.answ_call_cnt = (arow.answ_call_cnt as number) + n;
      if (c.transferAt !== null)
        arow.transfer_out_call_cnt = (arow.transfer_out_call_cnt as number) + n;
    } else {
      add('aband_call_cnt', 1);
      add('queued_and_aband_call_dur', qs);
      row.queued_aband_longest_que_dur = Math.max(row.queued_aband_longest_que_dur as number, qs);
      if (qms < shortAb) add('aband_short_call_cnt', 1);
      if (qms < sla) add('aband_within_sl_cnt', 1);
    }
  }
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const queueRows = [...q.values()] as unknown as QueueStatsTruthRow[];
  queueRows.sort((a, b) => cmp(a.interval_start, b.interval_start) || cmp(a.queue_id, b.queue_id));
  const agentQueueRows = [...aq.values()] as unknown as AgentQueueStatsTruthRow[];
  agentQueueRows.sort(
    (a, b) =>
      cmp(a.interval_start, b.interval_start) ||
      cmp(a.queue_id, b.queue_id) ||
      cmp(a.agent_username, b.agent_username),
  );
  return { queueRows, agentQueueRows };
}
