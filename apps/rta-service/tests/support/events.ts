/**
 * Agent events shaped as Amazon Connect writes them to the agent event stream (every top-level
 * field, the agent snapshot with routing profile and contacts), for the daemon's tests.
 */
import { randomUUID } from 'node:crypto';

const INSTANCE =
  'arn:aws:connect:eu-west-2:111122223333:instance/0c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f';

export interface AgentEventSpec {
  readonly username: string;
  readonly type?: 'LOGIN' | 'LOGOUT' | 'STATE_CHANGE' | 'HEART_BEAT' | string;
  readonly status: string;
  readonly timeMs: number;
  readonly contacts?: readonly { State: string; Channel?: string }[];
  readonly eventId?: string;
}

function snapshot(spec: AgentEventSpec, iso: string): Record<string, unknown> {
  const statusSlug = spec.status.toLowerCase().replace(/[^a-z0-9]/g, '-');
  return {
    AgentStatus: {
      ARN: `${INSTANCE}/agent-state/${statusSlug}`,
      Name: spec.status,
      StartTimestamp: iso,
      Type:
        spec.status === 'Available' ? 'ROUTABLE' : spec.status === 'Offline' ? 'OFFLINE' : 'CUSTOM',
    },
    Configuration: {
      AgentHierarchyGroups: null,
      FirstName: 'Test',
      LastName: spec.username,
      RoutingProfile: {
        ARN: `${INSTANCE}/routing-profile/5e5e5e5e-0000-4000-8000-000000000001`,
        Concurrency: [{ AvailableSlots: 1, Channel: 'VOICE', MaximumSlots: 1 }],
        DefaultOutboundQueue: {
          ARN: `${INSTANCE}/queue/9a9a9a9a-0000-4000-8000-000000000001`,
          Channels: ['VOICE'],
          Name: 'Sales',
        },
        InboundQueues: [
          {
            ARN: `${INSTANCE}/queue/9a9a9a9a-0000-4000-8000-000000000001`,
            Channels: ['VOICE'],
            Name: 'Sales',
          },
        ],
        Name: 'Sales',
      },
      Username: spec.username,
    },
    Contacts: (spec.contacts ?? []).map((c, i) => ({
      Channel: c.Channel ?? 'VOICE',
      ConnectedToAgentTimestamp: null,
      ContactId: `c-${spec.username}-${spec.timeMs}-${i}`,
      InitialContactId: null,
      InitiationMethod: 'INBOUND',
      Queue: { ARN: `${INSTANCE}/queue/9a9a9a9a-0000-4000-8000-000000000001`, Name: 'Sales' },
      QueueTimestamp: iso,
      State: c.State,
      StateStartTimestamp: iso,
    })),
  };
}

/** One agent event as JSON text. */
export function agentEvent(spec: AgentEventSpec): string {
  const iso = new Date(spec.timeMs).toISOString();
  return JSON.stringify({
    AWSAccountId: '111122223333',
    AgentARN: `${INSTANCE}/agent/${spec.username}`,
    CurrentAgentSnapshot: snapshot(spec, iso),
    EventId: spec.eventId ?? randomUUID(),
    EventTimestamp: iso,
    EventType: spec.type ?? 'STATE_CHANGE',
    InstanceARN: INSTANCE,
    PreviousAgentSnapshot: null,
    Version: '2019-05-25',
  });
}

/** The partition key Connect uses: the agent ARN. */
export function partitionKey(username: string): string {
  return `${INSTANCE}/agent/${username}`;
}
