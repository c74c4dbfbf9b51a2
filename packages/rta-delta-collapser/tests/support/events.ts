/**
 * Builders of Amazon Connect agent events (the full shape Connect writes, not only the fields
 * the collapser reads) and of Kinesis-like records.
 */
import type { AgentEventRecord } from '@connect-wfm/rta-delta-collapser';

const INSTANCE =
  'arn:aws:connect:eu-west-2:111122223333:instance/0c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f';

export interface ContactSpec {
  State: string;
  Channel?: string;
  ContactId?: string;
}

export interface EventSpec {
  username?: string;
  eventType?: string;
  eventId?: string;
  timestamp?: string;
  status?: string;
  statusType?: string | null;
  contacts?: ContactSpec[];
  nextStatus?: string;
}

let counter = 0;

export function statusArn(name: string): string {
  return `${INSTANCE}/agent-state/${name.toLowerCase().replace(/[^a-z0-9]/g, '-')}`;
}

/** A Connect agent event as a plain object, with realistic fields around the ones that matter. */
export function agentEvent(spec: EventSpec = {}): Record<string, unknown> {
  counter += 1;
  const username = spec.username ?? 'agent.alvarez';
  const status = spec.status ?? 'Available';
  const statusType =
    spec.statusType === undefined
      ? status === 'Available'
        ? 'ROUTABLE'
        : status === 'Offline'
          ? 'OFFLINE'
          : 'CUSTOM'
      : spec.statusType;
  const timestamp = spec.timestamp ?? '2023-05-02T08:00:00.000Z';
  const agentStatus: Record<string, unknown> = {
    ARN: statusArn(status),
    Name: status,
    StartTimestamp: timestamp,
  };
  if (statusType !== null) agentStatus.Type = statusType;
  const snapshot: Record<string, unknown> = {
    AgentStatus: agentStatus,
    Configuration: {
      AgentHierarchyGroups: null,
      FirstName: 'Ana',
      LastName: 'Alvarez',
      RoutingProfile: {
        ARN: `${INSTANCE}/routing-profile/5e5e5e5e`,
        Concurrency: [
          { AvailableSlots: 1, Channel: 'VOICE', MaximumSlots: 1 },
          { AvailableSlots: 2, Channel: 'CHAT', MaximumSlots: 2 },
        ],
        DefaultOutboundQueue: { ARN: `${INSTANCE}/queue/9a9a`, Channels: ['VOICE'], Name: 'Sales' },
        InboundQueues: [
          { ARN: `${INSTANCE}/queue/9a9a`, Channels: ['VOICE', 'CHAT'], Name: 'Sales' },
        ],
        Name: 'Sales-Omni',
      },
      Username: username,
    },
    Contacts: (spec.contacts ?? []).map((c, i) => ({
      Channel: c.Channel ?? 'VOICE',
      ConnectedToAgentTimestamp: null,
      ContactId: c.ContactId ?? `c-${counter}-${i}`,
      InitialContactId: null,
      InitiationMethod: 'INBOUND',
      Queue: { ARN: `${INSTANCE}/queue/9a9a`, Name: 'Sales' },
      QueueTimestamp: timestamp,
      State: c.State,
      StateStartTimestamp: timestamp,
    })),
  };
  if (spec.nextStatus !== undefined) {
    snapshot.NextAgentStatus = {
      ARN: statusArn(spec.nextStatus),
      Name: spec.nextStatus,
      EnqueuedTimestamp: timestamp,
    };
  }
  return {
    AWSAccountId: '111122223333',
    AgentARN: `${INSTANCE}/agent/${username}`,
    CurrentAgentSnapshot: snapshot,
    EventId: spec.eventId ?? `e-${counter}`,
    EventTimestamp: timestamp,
    EventType: spec.eventType ?? 'STATE_CHANGE',
    InstanceARN: INSTANCE,
    PreviousAgentSnapshot: null,
    Version: '2019-05-25',
  };
}

export function bytes(value: unknown): Uint8Array {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value), 'utf8');
}

export const SHARD_0 = 'shardId-000000000000';
export const SHARD_1 = 'shardId-000000000001';

/** A record for `ingest` (a long, realistic sequence number by default). */
export function record(
  event: unknown,
  sequenceNumber: string | number | bigint,
  shardId: string = SHARD_0,
): AgentEventRecord {
  const seq =
    typeof sequenceNumber === 'string'
      ? sequenceNumber
      : (
          49_640_000_000_000_000_000_000_000_000_000_000_000_000_000_000n + BigInt(sequenceNumber)
        ).toString();
  return { shardId, sequenceNumber: seq, data: bytes(event) };
}

/** Minutes after 08:00 on the sample day, as an EventTimestamp. */
export function at(minutes: number, ms = 0): string {
  return new Date(Date.UTC(2023, 4, 2, 8, 0, 0, 0) + minutes * 60_000 + ms).toISOString();
}
