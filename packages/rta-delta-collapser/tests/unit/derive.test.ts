import {
  type AgentEvent,
  CONTACT_STATE_ACTIVITY,
  createDeriver,
  DEFAULT_CONTACT_STATE_MAPPING,
  type DeriveOptions,
  deriveState,
  parseAgentEvent,
  RtaCollapserOptionsError,
} from '@connect-wfm/rta-delta-collapser';
import { agentEvent, bytes, type EventSpec, statusArn } from '../support/events.js';

function parsed(spec: EventSpec): AgentEvent {
  const r = parseAgentEvent(bytes(agentEvent(spec)), { shardId: 's', sequenceNumber: '1' });
  if (!r.ok) throw new Error(`fixture did not parse: ${r.rejection.reason}`);
  return r.event;
}

function code(spec: EventSpec, options?: DeriveOptions): string {
  return deriveState(parsed(spec), options).stateCode;
}

describe('deriveState: contact-aware mode (default)', () => {
  it.each([
    ['CONNECTED', 'OnContact', 'On contact'],
    ['CONNECTED_ONHOLD', 'OnHold', 'On hold'],
    ['CONNECTING', 'Offered', 'Contact offered'],
    ['INCOMING', 'Offered', 'Contact offered'],
    ['PENDING', 'Offered', 'Contact offered'],
    ['ENDED', 'AfterContactWork', 'After contact work'],
    ['MISSED', 'Missed', 'Missed contact'],
    ['ERROR', 'Missed', 'Missed contact'],
    ['REJECTED', 'Missed', 'Missed contact'],
  ])('maps a single %s contact to %s', (contactState, stateCode, stateDescription) => {
    const state = deriveState(parsed({ status: 'Available', contacts: [{ State: contactState }] }));
    expect(state).toEqual({ userCode: 'agent.alvarez', stateCode, stateDescription });
  });

  it('covers every contact state of the Connect data model in the table', () => {
    expect(Object.keys(CONTACT_STATE_ACTIVITY).sort()).toEqual(
      [
        'CONNECTED',
        'CONNECTED_ONHOLD',
        'CONNECTING',
        'ENDED',
        'ERROR',
        'INCOMING',
        'MISSED',
        'PENDING',
        'REJECTED',
      ].sort(),
    );
  });

  it.each([
    [['ENDED', 'CONNECTED'], 'OnContact'],
    [['MISSED', 'CONNECTED_ONHOLD'], 'OnHold'],
    [['ENDED', 'INCOMING'], 'Offered'],
    [['CONNECTING', 'CONNECTED_ONHOLD', 'ENDED'], 'OnHold'],
    [['ERROR', 'ENDED'], 'AfterContactWork'],
    [['REJECTED', 'MISSED'], 'Missed'],
  ])('takes the highest-precedence activity among %j', (states, expected) => {
    expect(code({ contacts: states.map((State) => ({ State })) })).toBe(expected);
    expect(code({ contacts: [...states].reverse().map((State) => ({ State })) })).toBe(expected);
  });

  it('uses the agent status when there are no contacts', () => {
    expect(deriveState(parsed({ status: 'Available', contacts: [] }))).toEqual({
      userCode: 'agent.alvarez',
      stateCode: 'Available',
      stateDescription: 'Available',
    });
  });

  it('uses custom statuses by name, or by ARN with stateCodeFrom arn', () => {
    expect(deriveState(parsed({ status: 'Break' }))).toMatchObject({
      stateCode: 'Break',
      stateDescription: 'Break',
    });
    expect(deriveState(parsed({ status: 'Training' }), { stateCodeFrom: 'arn' })).toMatchObject({
      stateCode: statusArn('Training'),
      stateDescription: 'Training',
    });
  });

  it('lets a contact win over a custom status (agent status often stays as it was)', () => {
    expect(code({ status: 'Break', contacts: [{ State: 'CONNECTED' }] })).toBe('OnContact');
  });

  it('ignores a pending NextAgentStatus: the state changes only when Connect applies it', () => {
    expect(
      code({ status: 'Available', nextStatus: 'Break', contacts: [{ State: 'CONNECTED' }] }),
    ).toBe('OnContact');
    expect(code({ status: 'Available', nextStatus: 'Lunch', contacts: [] })).toBe('Available');
    expect(
      code({ status: 'Available', nextStatus: 'Offline', contacts: [{ State: 'ENDED' }] }),
    ).toBe('AfterContactWork');
  });

  it('ignores contact states it does not know (future states) and falls back to the status', () => {
    expect(code({ status: 'Available', contacts: [{ State: 'PAUSED' }] })).toBe('Available');
    expect(code({ contacts: [{ State: 'PAUSED' }, { State: 'CONNECTED_ONHOLD' }] })).toBe('OnHold');
  });
});

describe('deriveState: concurrent contacts and channels', () => {
  const withChannel: DeriveOptions = { includeChannel: true };

  it('adds the channel to the code only when includeChannel is set', () => {
    const contacts = [{ State: 'CONNECTED', Channel: 'CHAT' }];
    expect(code({ contacts })).toBe('OnContact');
    expect(deriveState(parsed({ contacts }), withChannel)).toMatchObject({
      stateCode: 'OnContact:CHAT',
      stateDescription: 'On contact',
    });
  });

  it('picks a connected chat over a voice contact in after-contact work', () => {
    const contacts = [
      { State: 'ENDED', Channel: 'VOICE' },
      { State: 'CONNECTED', Channel: 'CHAT' },
    ];
    expect(code({ contacts }, withChannel)).toBe('OnContact:CHAT');
  });

  it('picks a voice call on hold over an offered chat', () => {
    const contacts = [
      { State: 'CONNECTING', Channel: 'CHAT' },
      { State: 'CONNECTED_ONHOLD', Channel: 'VOICE' },
    ];
    expect(code({ contacts }, withChannel)).toBe('OnHold:VOICE');
  });

  it('breaks a tie on activity by channel precedence, whatever the contacts order', () => {
    const voiceFirst = [
      { State: 'CONNECTED', Channel: 'VOICE' },
      { State: 'CONNECTED', Channel: 'CHAT' },
    ];
    const chatFirst = [...voiceFirst].reverse();
    expect(code({ contacts: voiceFirst }, withChannel)).toBe('OnContact:VOICE');
    expect(code({ contacts: chatFirst }, withChannel)).toBe('OnContact:VOICE');
    const chatWins: DeriveOptions = { includeChannel: true, channelPrecedence: ['CHAT', 'VOICE'] };
    expect(code({ contacts: voiceFirst }, chatWins)).toBe('OnContact:CHAT');
  });

  it('orders unlisted channels alphabetically after listed ones', () => {
    const contacts = [
      { State: 'CONNECTED', Channel: 'VIDEO' },
      { State: 'CONNECTED', Channel: 'EMAIL' },
      { State: 'CONNECTED', Channel: 'SMS' },
    ];
    expect(code({ contacts }, withChannel)).toBe('OnContact:EMAIL');
    expect(code({ contacts: contacts.slice(0, 1).concat(contacts.slice(2)) }, withChannel)).toBe(
      'OnContact:SMS',
    );
  });

  it('gives no suffix for a contact without a channel', () => {
    const event = agentEvent({ contacts: [{ State: 'CONNECTED' }] });
    const contacts = (event.CurrentAgentSnapshot as { Contacts: Record<string, unknown>[] })
      .Contacts;
    for (const c of contacts) delete c.Channel;
    const r = parseAgentEvent(bytes(event), { shardId: 's', sequenceNumber: '1' });
    if (!r.ok) throw new Error(r.rejection.reason);
    expect(deriveState(r.event, withChannel).stateCode).toBe('OnContact');
  });
});

describe('deriveState: logged out', () => {
  it('logs out on a LOGOUT event, even with contacts and an Available status', () => {
    expect(
      deriveState(
        parsed({ eventType: 'LOGOUT', status: 'Available', contacts: [{ State: 'CONNECTED' }] }),
      ),
    ).toEqual({
      userCode: 'agent.alvarez',
      stateCode: 'LOGGED-OFF',
      stateDescription: 'Logged out',
    });
  });

  it('logs out a status whose Type is OFFLINE, whatever its name', () => {
    expect(code({ status: 'Gone home', statusType: 'OFFLINE' })).toBe('LOGGED-OFF');
  });

  it('logs out the signed-off status names case-insensitively (default Offline)', () => {
    expect(code({ status: 'Offline', statusType: null })).toBe('LOGGED-OFF');
    expect(code({ status: 'OFFLINE', statusType: 'CUSTOM' })).toBe('LOGGED-OFF');
    expect(code({ status: 'Signed off', statusType: 'CUSTOM' })).toBe('Signed off');
    expect(
      code(
        { status: 'signed OFF', statusType: 'CUSTOM' },
        { signedOffStatusNames: ['Signed off'] },
      ),
    ).toBe('LOGGED-OFF');
  });

  it('uses the configured logged-out code and description', () => {
    const options: DeriveOptions = { loggedOut: { stateCode: 'LOGGED_OUT' } };
    expect(deriveState(parsed({ eventType: 'LOGOUT' }), options)).toMatchObject({
      stateCode: 'LOGGED_OUT',
      stateDescription: 'Logged out',
    });
  });

  it('still logs out in status-only mode', () => {
    expect(code({ eventType: 'LOGOUT' }, { mode: 'status-only' })).toBe('LOGGED-OFF');
  });
});

describe('deriveState: status-only mode and mapping table', () => {
  it('skips the contacts in status-only mode', () => {
    const spec: EventSpec = { status: 'Available', contacts: [{ State: 'CONNECTED' }] };
    expect(code(spec, { mode: 'status-only' })).toBe('Available');
    expect(code(spec, { mode: 'status-only', stateCodeFrom: 'arn' })).toBe(statusArn('Available'));
  });

  it('uses custom codes and descriptions from the mapping table, defaults for the rest', () => {
    const options: DeriveOptions = {
      includeChannel: true,
      contactStates: {
        OnContact: { stateCode: 'TALK', stateDescription: 'Talking' },
        AfterContactWork: { stateDescription: 'Wrap-up' },
      },
    };
    expect(deriveState(parsed({ contacts: [{ State: 'CONNECTED' }] }), options)).toMatchObject({
      stateCode: 'TALK:VOICE',
      stateDescription: 'Talking',
    });
    expect(deriveState(parsed({ contacts: [{ State: 'ENDED' }] }), options)).toMatchObject({
      stateCode: 'AfterContactWork:VOICE',
      stateDescription: 'Wrap-up',
    });
    expect(DEFAULT_CONTACT_STATE_MAPPING.Missed.stateCode).toBe('Missed');
  });
});

describe('deriver options validation', () => {
  it('rejects unknown keys and wrong values, listing every problem', () => {
    const bad = {
      mode: 'everything',
      includeChannel: 'yes',
      contactStates: { OnContact: { stateCode: '' } },
      extra: 1,
    } as unknown as DeriveOptions;
    let error: unknown;
    try {
      createDeriver(bad);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(RtaCollapserOptionsError);
    const problems = (error as RtaCollapserOptionsError).problems
      .map((p) => `${p.path}: ${p.message}`)
      .join('\n');
    expect(problems).toMatch(/mode/);
    expect(problems).toMatch(/includeChannel/);
    expect(problems).toMatch(/contactStates\.OnContact\.stateCode/);
    expect(problems).toMatch(/extra/);
    expect((error as RtaCollapserOptionsError).code).toBe('INVALID_OPTIONS');
    expect(() => deriveState(parsed({}), bad)).toThrow(RtaCollapserOptionsError);
  });
});
