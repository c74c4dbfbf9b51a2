import { configProblemsFrom } from '@connect-wfm/core';
import { RtaCollapserOptionsError } from './errors.js';
import { type AgentEvent, deriveOptionsSchema } from './schema.js';
import type { ContactActivity, DeriveOptions, RtaState, StateMapping } from './types.js';

/**
 * Connect contact `State` → contact activity. States not listed (a state Connect may add in the
 * future) are ignored when choosing the contact that decides the agent's state.
 */
export const CONTACT_STATE_ACTIVITY: Readonly<Record<string, ContactActivity>> = Object.freeze({
  CONNECTED: 'OnContact',
  CONNECTED_ONHOLD: 'OnHold',
  CONNECTING: 'Offered',
  INCOMING: 'Offered',
  PENDING: 'Offered',
  ENDED: 'AfterContactWork',
  MISSED: 'Missed',
  ERROR: 'Missed',
  REJECTED: 'Missed',
});

/** Contact activities from highest to lowest precedence. */
export const CONTACT_ACTIVITY_PRECEDENCE: readonly ContactActivity[] = Object.freeze([
  'OnContact',
  'OnHold',
  'Offered',
  'AfterContactWork',
  'Missed',
]);

/** The default mapping table: code and description per contact activity. */
export const DEFAULT_CONTACT_STATE_MAPPING: Readonly<Record<ContactActivity, StateMapping>> =
  Object.freeze({
    OnContact: { stateCode: 'OnContact', stateDescription: 'On contact' },
    OnHold: { stateCode: 'OnHold', stateDescription: 'On hold' },
    Offered: { stateCode: 'Offered', stateDescription: 'Contact offered' },
    AfterContactWork: { stateCode: 'AfterContactWork', stateDescription: 'After contact work' },
    Missed: { stateCode: 'Missed', stateDescription: 'Missed contact' },
  });

/** The default logged-out state. */
export const DEFAULT_LOGGED_OUT_STATE: Readonly<StateMapping> = Object.freeze({
  stateCode: 'LOGGED-OFF',
  stateDescription: 'Logged out',
});

/** Default `signedOffStatusNames`. */
export const DEFAULT_SIGNED_OFF_STATUS_NAMES: readonly string[] = Object.freeze(['Offline']);

/** Default `channelPrecedence`. */
export const DEFAULT_CHANNEL_PRECEDENCE: readonly string[] = Object.freeze([
  'VOICE',
  'CHAT',
  'TASK',
  'EMAIL',
]);

interface ContactRule {
  /** 0 = highest precedence. */
  rank: number;
  stateCode: string;
  stateDescription: string;
}

/** Options resolved once into lookup tables; the per-event path does no option handling. */
export type CompiledDeriver = (event: AgentEvent) => RtaState;

/** Compiles already-validated options (internal; `createDeriver` validates first). */
export function compileDeriver(options: DeriveOptions): CompiledDeriver {
  const statusOnly = options.mode === 'status-only';
  const useArn = options.stateCodeFrom === 'arn';
  const includeChannel = options.includeChannel === true;
  const signedOff = new Set(
    (options.signedOffStatusNames ?? DEFAULT_SIGNED_OFF_STATUS_NAMES).map((n) => n.toLowerCase()),
  );
  const loggedOutCode = options.loggedOut?.stateCode ?? DEFAULT_LOGGED_OUT_STATE.stateCode;
  const loggedOutDescription =
    options.loggedOut?.stateDescription ?? DEFAULT_LOGGED_OUT_STATE.stateDescription;

  const rules = new Map<string, ContactRule>();
  for (const [connectState, activity] of Object.entries(CONTACT_STATE_ACTIVITY)) {
    const override = options.contactStates?.[activity];
    const base = DEFAULT_CONTACT_STATE_MAPPING[activity];
    rules.set(connectState, {
      rank: CONTACT_ACTIVITY_PRECEDENCE.indexOf(activity),
      stateCode: override?.stateCode ?? base.stateCode,
      stateDescription: override?.stateDescription ?? base.stateDescription,
    });
  }
  const channelOrder = options.channelPrecedence ?? DEFAULT_CHANNEL_PRECEDENCE;
  const channelRanks = new Map<string, number>();
  channelOrder.forEach((c, i) => {
    if (!channelRanks.has(c)) channelRanks.set(c, i);
  });
  const unlisted = channelOrder.length;

  /** Negative when channel `a` wins over channel `b`. */
  function compareChannels(a: string | null | undefined, b: string | null | undefined): number {
    if (a === b) return 0;
    if (a == null) return 1;
    if (b == null) return -1;
    const ra = channelRanks.get(a) ?? unlisted;
    const rb = channelRanks.get(b) ?? unlisted;
    if (ra !== rb) return ra - rb;
    return a < b ? -1 : 1;
  }

  return (event: AgentEvent): RtaState => {
    const snapshot = event.CurrentAgentSnapshot;
    const userCode = snapshot.Configuration.Username;
    const status = snapshot.AgentStatus;

    // 1. Logged out.
    if (
      event.EventType === 'LOGOUT' ||
      status.Type === 'OFFLINE' ||
      signedOff.has(status.Name.toLowerCase())
    ) {
      return { userCode, stateCode: loggedOutCode, stateDescription: loggedOutDescription };
    }

    // 2. On a contact: the contact with the highest-precedence activity, then channel.
    const contacts = snapshot.Contacts;
    if (!statusOnly && contacts != null && contacts.length > 0) {
      let best: ContactRule | undefined;
      let bestChannel: string | null | undefined;
      for (const contact of contacts) {
        const state = contact.State;
        if (state == null) continue;
        const rule = rules.get(state);
        if (rule === undefined) continue; // unknown contact state: ignored
        if (
          best === undefined ||
          rule.rank < best.rank ||
          (rule.rank === best.rank && compareChannels(contact.Channel, bestChannel) < 0)
        ) {
          best = rule;
          bestChannel = contact.Channel;
        }
      }
      if (best !== undefined) {
        return {
          userCode,
          stateCode:
            includeChannel && bestChannel != null && bestChannel !== ''
              ? `${best.stateCode}:${bestChannel}`
              : best.stateCode,
          stateDescription: best.stateDescription,
        };
      }
    }

    // 3. Agent status.
    return {
      userCode,
      stateCode: useArn ? status.ARN : status.Name,
      stateDescription: status.Name,
    };
  };
}

/**
 * Validates derivation options (strict: unknown keys are errors) and compiles them into a fast
 * deriver. Throws `RtaCollapserOptionsError` listing every problem.
 *
 * @example
 * const derive = createDeriver({ includeChannel: true });
 * const state = derive(event); // { userCode, stateCode: 'OnContact:VOICE', stateDescription: 'On contact' }
 */
export function createDeriver(options: DeriveOptions = {}): CompiledDeriver {
  const parsed = deriveOptionsSchema.safeParse(options);
  if (!parsed.success) throw new RtaCollapserOptionsError(configProblemsFrom(parsed.error));
  return compileDeriver(options);
}

const compiledByOptions = new WeakMap<DeriveOptions, CompiledDeriver>();
const defaultDeriver = compileDeriver({});

/**
 * Derives the state the WFM receives for one agent event (docs/rta-state-rules.md), in precedence
 * order: (1) logged out — `LOGOUT`, `AgentStatus.Type` `OFFLINE`, or a signed-off status name;
 * (2) in `contact-aware` mode, the highest-precedence contact activity (`OnContact` > `OnHold` >
 * `Offered` > `AfterContactWork` > `Missed`; ties on the channel precedence); (3) the agent
 * status name (or ARN). `NextAgentStatus` is not read: a pending status change does not change
 * the state until Connect applies it and sends a new event. Options are compiled once per options
 * object (cached), so reuse the same object.
 *
 * @example
 * const r = parseAgentEvent(data, meta);
 * if (r.ok) {
 *   const state = deriveState(r.event, { stateCodeFrom: 'arn' });
 * }
 */
export function deriveState(event: AgentEvent, options?: DeriveOptions): RtaState {
  if (options === undefined) return defaultDeriver(event);
  let deriver = compiledByOptions.get(options);
  if (deriver === undefined) {
    deriver = createDeriver(options);
    compiledByOptions.set(options, deriver);
  }
  return deriver(event);
}
