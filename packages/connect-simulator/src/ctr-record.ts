/**
 * A contact's CTR as Connect writes it to Firehose, and the CSV row and figures the WFM should
 * derive from it (docs/historical-formats.md#raw-ctr-csv). Pure functions of the model's contact.
 */
import { type AgentRt, type Contact, type Queue, SECOND } from './entities.js';
import { arnId, csvJoin, isoSeconds } from './render.js';
import type { ContactTruth } from './types.js';

/** A contact's talk, hold and after-contact-work seconds. */
export function figures(c: Contact): { talk: number; hold: number; acw: number } {
  const hold = c.holds.reduce((s, h) => s + h, 0) / SECOND;
  const talk =
    c.connectedAt === null || c.disconnectedAt === null
      ? 0
      : (c.disconnectedAt - c.connectedAt) / SECOND - hold;
  const acw = c.acwStart === null || c.acwEnd === null ? 0 : (c.acwEnd - c.acwStart) / SECOND;
  return { talk, hold, acw };
}

/** The CTR JSON of a contact, from its current model state. */
export function renderCtr(
  c: Contact,
  accountId: string,
  instanceArn: string,
): Record<string, unknown> {
  const a = c.agent;
  const f = figures(c);
  const holds = c.holds.map((h) => h / SECOND);
  const endpoint = (addr: string | null) =>
    addr === null ? null : { Address: addr, Type: 'TELEPHONE_NUMBER' };
  const ts = (ms: number | null) => (ms === null ? null : isoSeconds(ms));
  return {
    AWSAccountId: accountId,
    AWSContactTraceRecordFormatVersion: '2017-03-10',
    Agent:
      a === null || c.connectedAt === null
        ? null
        : {
            ARN: a.def.arn,
            AfterContactWorkDuration: f.acw,
            AfterContactWorkEndTimestamp: ts(c.acwEnd),
            AfterContactWorkStartTimestamp: ts(c.acwStart),
            AgentInteractionDuration: f.talk,
            ConnectedToAgentTimestamp: ts(c.connectedAt),
            CustomerHoldDuration: f.hold,
            HierarchyGroups: a.def.hierarchy,
            LongestHoldDuration: holds.length === 0 ? 0 : Math.max(...holds),
            NumberOfHolds: holds.length,
            RoutingProfile: { ARN: a.def.profile.arn, Name: a.def.profile.name },
            Username: a.def.username,
          },
    AgentConnectionAttempts: c.attempts,
    Attributes: { ...c.attributes },
    Channel: c.channel,
    ConnectedToSystemTimestamp: ts(c.initiatedAt),
    ContactId: c.id,
    CustomerEndpoint: endpoint(c.customer),
    DisconnectReason: c.disconnectReason,
    DisconnectTimestamp: ts(c.disconnectedAt),
    InitialContactId: c.initialId,
    InitiationMethod: c.method,
    InitiationTimestamp: ts(c.initiatedAt),
    InstanceARN: instanceArn,
    LastUpdateTimestamp: ts(c.lastUpdate),
    MediaStreams: [{ Type: c.channel === 'VOICE' ? 'AUDIO' : c.channel }],
    NextContactId: c.nextId,
    PreviousContactId: c.previousId,
    Queue:
      c.queue === null || c.enqueuedAt === null
        ? null
        : {
            ARN: c.queue.arn,
            DequeueTimestamp: ts(c.dequeuedAt),
            Duration: ((c.dequeuedAt ?? c.enqueuedAt) - c.enqueuedAt) / SECOND,
            EnqueueTimestamp: ts(c.enqueuedAt),
            Name: c.queue.name,
          },
    Recording: null,
    Recordings: null,
    References: [],
    ScheduledTimestamp: null,
    SystemEndpoint: endpoint(c.system),
    TransferCompletedTimestamp: ts(c.transferAt),
    TransferredToEndpoint: endpoint(c.transferTo),
  };
}

/** What the WFM should hold for a contact, including its expected raw CTR CSV row. */
export function contactTruthOf(c: Contact): ContactTruth {
  const answered = c.agent !== null && c.connectedAt !== null;
  const f = figures(c);
  const queued = c.queue !== null && c.enqueuedAt !== null;
  const queueSeconds = queued
    ? ((c.dequeuedAt ?? c.enqueuedAt ?? 0) - (c.enqueuedAt ?? 0)) / SECOND
    : null;
  const agent = answered ? (c.agent as AgentRt) : null;
  // the 16 columns of docs/historical-formats.md#raw-ctr-csv, computed from the model
  const fields = [
    agent === null ? '' : arnId(agent.def.arn),
    agent === null ? '' : String(f.acw),
    agent === null ? '' : String(f.talk),
    agent === null ? '' : String(f.hold),
    agent === null ? '' : agent.def.username,
    c.channel,
    c.id,
    c.method,
    isoSeconds(c.initiatedAt),
    queued ? arnId((c.queue as Queue).arn) : '',
    queued ? String(queueSeconds) : '',
    queued ? isoSeconds(c.enqueuedAt as number) : '',
    queued ? (c.queue as Queue).name : '',
    c.system ?? '',
    c.transferAt === null ? '' : isoSeconds(c.transferAt),
    c.transferTo ?? '',
  ];
  return {
    contactId: c.id,
    channel: c.channel,
    initiationMethod: c.method,
    queueId: queued ? arnId((c.queue as Queue).arn) : null,
    queueName: queued ? (c.queue as Queue).name : null,
    agentUsername: agent?.def.username ?? null,
    answered,
    enqueuedAt: queued ? c.enqueuedAt : null,
    queueSeconds,
    talkSeconds: answered ? f.talk : 0,
    holdSeconds: answered ? f.hold : 0,
    acwSeconds: answered ? f.acw : 0,
    transferredOut: c.transferAt !== null,
    versions: c.versions,
    csvRow: csvJoin(fields),
  };
}
