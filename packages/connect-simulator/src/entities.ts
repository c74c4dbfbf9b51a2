/**
 * The model's internal entities (statuses, queues, routing profiles, agents, contacts) and its
 * time units. Nothing here is exported from the package.
 */
import type { Channel, ContactState, TruthState } from './types.js';

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
/** Length of an agent performance report interval. */
export const REPORT_INTERVAL = 30 * MINUTE;
/** How long after an interval's end its agent performance report is written. */
export const REPORT_DELAY = 15 * MINUTE;

/** The StateCode of a logged-out agent (docs/rta-state-rules.md#deriving-the-state). */
export const TRUTH_LOGGED_OUT_CODE = 'LOGGED-OFF';

export type StatusType = 'ROUTABLE' | 'CUSTOM' | 'OFFLINE';
export interface Status {
  readonly arn: string;
  readonly name: string;
  readonly type: StatusType;
}
export interface Queue {
  readonly arn: string;
  readonly name: string;
  readonly channels: readonly Channel[];
}
export interface RoutingProfile {
  readonly arn: string;
  readonly name: string;
  readonly concurrency: Readonly<Partial<Record<Channel, number>>>;
  readonly queues: readonly Queue[];
}
export interface AgentDef {
  readonly index: number;
  readonly arn: string;
  readonly username: string;
  readonly firstName: string;
  readonly lastName: string;
  readonly profile: RoutingProfile;
  /** Offset of the shift start from 00:00 UTC. */
  readonly shiftOffset: number;
  /** Millisecond offset of this agent's event timestamps (so they are not all on whole seconds). */
  readonly msOffset: number;
  readonly hierarchy: Record<string, { ARN: string; GroupName: string }>;
}

/** The agent statuses of the simulated instance, by role. */
export type Statuses = Record<
  'available' | 'offline' | 'break' | 'lunch' | 'training' | 'meeting',
  Status
>;

export interface Contact {
  readonly id: string;
  readonly channel: Channel;
  readonly method: string;
  readonly initialId: string | null;
  readonly previousId: string | null;
  nextId: string | null;
  queue: Queue | null;
  readonly initiatedAt: number;
  enqueuedAt: number | null;
  dequeuedAt: number | null;
  connectedAt: number | null;
  disconnectedAt: number | null;
  disconnectReason: string;
  agent: AgentRt | null;
  attempts: number;
  holds: number[];
  acwStart: number | null;
  acwEnd: number | null;
  transferAt: number | null;
  transferTo: string | null;
  customer: string | null;
  system: string | null;
  phase: 'flow' | 'queued' | 'offered' | 'agent' | 'done';
  attributes: Record<string, string>;
  versions: number;
  /** Firehose objects holding at least one version of this contact. */
  objects: number;
  lastUpdate: number;
}

export interface Slot {
  readonly contact: Contact;
  state: ContactState;
  since: number;
}

export interface Snapshot {
  readonly status: Status;
  readonly statusSince: number;
  readonly next: Status | null;
  readonly slots: ReadonlyArray<{ contact: Contact; state: ContactState; since: number }>;
}

/** An agent at run time. */
export interface AgentRt {
  readonly def: AgentDef;
  loggedIn: boolean;
  status: Status;
  statusSince: number;
  slots: Slot[];
  pending: { kind: 'status'; status: Status; minutes: number } | { kind: 'logout' } | null;
  idleSince: number;
  lastEventTs: number;
  lastSnapshot: Snapshot | null;
  beforeLogout: Snapshot | null;
  loggedOutAt: number | null;
  heartbeatGen: number;
  accSince: number;
  truth: TruthState;
  timeline: TruthState[];
}

/** Default simulated start: today 08:00 UTC. */
export function defaultStart(now = Date.now()): Date {
  return new Date(Math.floor(now / DAY) * DAY + 8 * HOUR);
}
