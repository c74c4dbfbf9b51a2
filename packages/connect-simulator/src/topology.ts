/**
 * The simulated Connect instance: its agent statuses, queues, routing profiles and agents
 * (the package DESIGN.md, "The model"). Identifiers come from the seeded id generator, so the
 * same seed gives the same instance.
 */

import {
  type AgentDef,
  type AgentRt,
  HOUR,
  MINUTE,
  type Queue,
  type RoutingProfile,
  type Status,
  type Statuses,
  type StatusType,
  TRUTH_LOGGED_OUT_CODE,
} from './entities.js';
import type { SeededRandom } from './random.js';
import type { Channel } from './types.js';

export const FIRST_NAMES = [
  'Ana',
  'Ben',
  'Chloe',
  'Dev',
  'Elif',
  'Femi',
  'Greta',
  'Hiro',
  'Ines',
  'Jonas',
];
const LAST_NAMES = [
  'Alvarez',
  'Bianchi',
  'Chen',
  'Dubois',
  'Eriksen',
  'Fofana',
  'Garcia',
  'Haddad',
];

/** What {@link buildTopology} creates. */
export interface Topology {
  readonly statuses: Statuses;
  /** Sales, Support, Chat and BackOffice, in that order. */
  readonly queues: Queue[];
  /** Logged-out agents, in index order. */
  readonly agents: AgentRt[];
}

/**
 * Creates the instance's statuses, queues, routing profiles and `agentCount` logged-out agents,
 * drawing their ids from `idRng` in a fixed order.
 */
export function buildTopology(
  instanceArn: string,
  idRng: SeededRandom,
  agentCount: number,
  start: number,
): Topology {
  const status = (name: string, type: StatusType): Status => ({
    arn: `${instanceArn}/agent-state/${idRng.uuid()}`,
    name,
    type,
  });
  const statuses: Statuses = {
    available: status('Available', 'ROUTABLE'),
    offline: status('Offline', 'OFFLINE'),
    break: status('Break', 'CUSTOM'),
    lunch: status('Lunch', 'CUSTOM'),
    training: status('Training', 'CUSTOM'),
    meeting: status('Meeting', 'CUSTOM'),
  };
  const queue = (name: string, channels: Channel[]): Queue => ({
    arn: `${instanceArn}/queue/${idRng.uuid()}`,
    name,
    channels,
  });
  const sales = queue('Sales', ['VOICE']);
  const support = queue('Support', ['VOICE']);
  const chat = queue('Chat', ['CHAT']);
  const backOffice = queue('BackOffice', ['TASK']);
  const queues = [sales, support, chat, backOffice];
  const profile = (
    name: string,
    concurrency: Partial<Record<Channel, number>>,
    queues: Queue[],
  ): RoutingProfile => ({
    arn: `${instanceArn}/routing-profile/${idRng.uuid()}`,
    name,
    concurrency,
    queues,
  });
  const profiles = [
    profile('Voice', { VOICE: 1 }, [sales, support]),
    profile('Omni', { VOICE: 1, CHAT: 2 }, [support, chat]),
    profile('BackOffice', { TASK: 1, CHAT: 3 }, [backOffice, chat]),
  ];
  const site = { ARN: `${instanceArn}/agent-group/${idRng.uuid()}`, GroupName: 'Site' };
  const agents: AgentRt[] = [];
  for (let i = 0; i < agentCount; i++) {
    const p = i % 10 < 5 ? profiles[0] : i % 10 < 8 ? profiles[1] : profiles[2];
    const def: AgentDef = {
      index: i,
      arn: `${instanceArn}/agent/${idRng.uuid()}`,
      username: `agent.${String(i + 1).padStart(4, '0')}`,
      firstName: FIRST_NAMES[i % FIRST_NAMES.length] as string,
      lastName: LAST_NAMES[(i * 7) % LAST_NAMES.length] as string,
      profile: p as RoutingProfile,
      shiftOffset: 6 * HOUR + ((i * 37) % 17) * 30 * MINUTE,
      msOffset: (i * 137 + 11) % 1000,
      hierarchy: { Level1: site },
    };
    agents.push({
      def,
      loggedIn: false,
      status: statuses.offline,
      statusSince: start,
      slots: [],
      pending: null,
      idleSince: start,
      lastEventTs: 0,
      lastSnapshot: null,
      beforeLogout: null,
      loggedOutAt: null,
      heartbeatGen: 0,
      accSince: start,
      truth: {
        stateCode: TRUTH_LOGGED_OUT_CODE,
        stateDescription: 'Logged out',
        loggedOut: true,
        since: 0,
        eventId: null,
      },
      timeline: [],
    });
  }
  return { statuses, queues, agents };
}
