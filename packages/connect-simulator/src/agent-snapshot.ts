/**
 * An agent's snapshot as an agent event carries it, and the state the WFM should derive from the
 * model (docs/rta-state-rules.md#deriving-the-state). Pure functions of the run-time agent.
 */
import {
  type AgentRt,
  type Queue,
  type Snapshot,
  type Status,
  TRUTH_LOGGED_OUT_CODE,
} from './entities.js';
import { isoMs } from './render.js';
import type { Channel, ContactState } from './types.js';

/** Contact activity codes in precedence order, with descriptions (docs/rta-state-rules.md). */
const ACTIVITY: ReadonlyArray<{
  states: readonly ContactState[];
  code: string;
  description: string;
}> = [
  { states: ['CONNECTED'], code: 'OnContact', description: 'On contact' },
  { states: ['CONNECTED_ONHOLD'], code: 'OnHold', description: 'On hold' },
  {
    states: ['CONNECTING', 'INCOMING', 'PENDING'],
    code: 'Offered',
    description: 'Contact offered',
  },
  { states: ['ENDED'], code: 'AfterContactWork', description: 'After contact work' },
  { states: ['MISSED', 'ERROR', 'REJECTED'], code: 'Missed', description: 'Missed contact' },
];

/** The agent's status and contact slots now. */
export function snapshotOf(a: AgentRt): Snapshot {
  return {
    status: a.status,
    statusSince: a.statusSince,
    next: a.pending?.kind === 'status' ? a.pending.status : null,
    slots: a.slots.map((s) => ({ contact: s.contact, state: s.state, since: s.since })),
  };
}

/** The state the WFM should hold, derived from the model (not from the event JSON). */
export function deriveTruth(a: AgentRt): { code: string; description: string; loggedOut: boolean } {
  if (!a.loggedIn)
    return { code: TRUTH_LOGGED_OUT_CODE, description: 'Logged out', loggedOut: true };
  for (const activity of ACTIVITY) {
    if (a.slots.some((s) => activity.states.includes(s.state))) {
      return { code: activity.code, description: activity.description, loggedOut: false };
    }
  }
  return { code: a.status.name, description: a.status.name, loggedOut: false };
}

/** The `CurrentAgentSnapshot` / `PreviousAgentSnapshot` JSON of a snapshot; `nowMs` stamps the next status. */
export function renderSnapshot(a: AgentRt, s: Snapshot, nowMs: number): Record<string, unknown> {
  const p = a.def.profile;
  const used = (ch: Channel) => s.slots.filter((x) => x.contact.channel === ch).length;
  const status = (st: Status, since: number) => ({
    ARN: st.arn,
    Name: st.name,
    StartTimestamp: isoMs(since + a.def.msOffset),
    Type: st.type,
  });
  const snapshot: Record<string, unknown> = {
    AgentStatus: status(s.status, s.statusSince),
    Configuration: {
      AgentHierarchyGroups: a.def.hierarchy,
      FirstName: a.def.firstName,
      LastName: a.def.lastName,
      RoutingProfile: {
        ARN: p.arn,
        Concurrency: (Object.entries(p.concurrency) as Array<[Channel, number]>).map(
          ([ch, max]) => ({
            AvailableSlots: Math.max(0, max - used(ch)),
            Channel: ch,
            MaximumSlots: max,
          }),
        ),
        DefaultOutboundQueue: {
          ARN: (p.queues[0] as Queue).arn,
          Channels: (p.queues[0] as Queue).channels,
          Name: (p.queues[0] as Queue).name,
        },
        InboundQueues: p.queues.map((q) => ({ ARN: q.arn, Channels: q.channels, Name: q.name })),
        Name: p.name,
      },
      Username: a.def.username,
    },
    Contacts: s.slots.map((x) => ({
      Channel: x.contact.channel,
      ConnectedToAgentTimestamp:
        x.contact.connectedAt !== null && x.contact.agent === a
          ? isoMs(x.contact.connectedAt + a.def.msOffset)
          : null,
      ContactId: x.contact.id,
      InitialContactId: x.contact.initialId,
      InitiationMethod: x.contact.method,
      Queue:
        x.contact.queue === null ? null : { ARN: x.contact.queue.arn, Name: x.contact.queue.name },
      QueueTimestamp: x.contact.enqueuedAt === null ? null : isoMs(x.contact.enqueuedAt),
      State: x.state,
      StateStartTimestamp: isoMs(x.since + a.def.msOffset),
    })),
  };
  if (s.next !== null) snapshot.NextAgentStatus = status(s.next, nowMs);
  return snapshot;
}
