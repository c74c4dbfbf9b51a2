import fc from 'fast-check';
import { fastParse, validateAgentEvent } from '../../src/parse.js';
import { agentEventSchema } from '../../src/schema.js';

/** The key is left out. */
const ABSENT = Symbol('absent');

const anyJunk: unknown[] = [ABSENT, null, 0, 1.5, true, '', [], {}, ['x'], { a: 1 }];

/** Mostly one of `valid` (so that whole events are often valid), sometimes junk or absent. */
function field(valid: unknown[], invalid: unknown[] = anyJunk): fc.Arbitrary<unknown> {
  return fc.oneof(
    { arbitrary: fc.constantFrom(...valid), weight: 6 },
    { arbitrary: fc.constantFrom(...invalid), weight: 1 },
  );
}
const strings = ['x', 'Available', 'agent.alvarez', 'arn:aws:connect:...:agent-state/1'];
const timestamps = [
  '2023-05-02T08:00:00.118Z',
  '2023-05-02T08:00:00Z',
  '2023-05-28T23:59:59.999999Z',
  '2023-05-29T08:00:00.118Z',
  '2023-04-31T08:00:00.118Z',
  '2023-02-29T08:00:00.000Z',
  '2024-02-29T08:00:00.000Z',
  '2023-05-02T08:00:00.118+02:00',
  '2023-05-02T08:00Z',
  '2023-05-02 08:00:00Z',
  '2023-13-02T08:00:00Z',
  '2023-05-02T24:00:00Z',
  'yesterday',
];

function assign(target: Record<string, unknown>, key: string, value: unknown): void {
  if (value !== ABSENT) target[key] = value;
}

const contactArb = fc.oneof(
  { arbitrary: fc.constantFrom<unknown>(...anyJunk.slice(1)), weight: 1 },
  {
    weight: 6,
    arbitrary: fc
      .record({
        State: field(['CONNECTED', 'ENDED', 'PAUSED', null, ABSENT]),
        Channel: field(['VOICE', 'CHAT', null, ABSENT]),
        Extra: field(['kept out', 1, ABSENT]),
      })
      .map((c) => {
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(c)) assign(out, k, v);
        return out;
      }),
  },
);

const eventArb = fc
  .record({
    EventId: field(['e-1', null, ABSENT]),
    EventType: field(['STATE_CHANGE', 'LOGOUT']),
    EventTimestamp: field(timestamps),
    AgentARN: field(['arn:agent', null, ABSENT]),
    ARN: field(strings),
    Name: field(strings),
    Type: field(['ROUTABLE', 'OFFLINE', null, ABSENT]),
    Username: field(strings, [...anyJunk, ' ', '\t\n', '\u00a0\u3000', ' agent.padded ']),
    Contacts: fc.oneof(
      { arbitrary: fc.array(contactArb, { maxLength: 3 }) as fc.Arbitrary<unknown>, weight: 6 },
      { arbitrary: fc.constantFrom(...anyJunk), weight: 1 },
    ),
    shape: fc.oneof(
      { arbitrary: fc.constant('ok'), weight: 12 },
      {
        arbitrary: fc.constantFrom(
          'no-snapshot',
          'snapshot-array',
          'status-null',
          'config-junk',
          'root-array',
        ),
        weight: 1,
      },
    ),
  })
  .map((f) => {
    const status: Record<string, unknown> = { StartTimestamp: 'kept out' };
    assign(status, 'ARN', f.ARN);
    assign(status, 'Name', f.Name);
    assign(status, 'Type', f.Type);
    const config: Record<string, unknown> = { FirstName: 'Ana' };
    assign(config, 'Username', f.Username);
    const snapshot: Record<string, unknown> = { AgentStatus: status, Configuration: config };
    assign(snapshot, 'Contacts', f.Contacts);
    const event: Record<string, unknown> = {
      Version: '2019-05-25',
      CurrentAgentSnapshot: snapshot,
    };
    assign(event, 'EventId', f.EventId);
    assign(event, 'EventType', f.EventType);
    assign(event, 'EventTimestamp', f.EventTimestamp);
    assign(event, 'AgentARN', f.AgentARN);
    if (f.shape === 'no-snapshot') delete event.CurrentAgentSnapshot;
    if (f.shape === 'snapshot-array') event.CurrentAgentSnapshot = [snapshot];
    if (f.shape === 'status-null') snapshot.AgentStatus = null;
    if (f.shape === 'config-junk') snapshot.Configuration = 'junk';
    return f.shape === 'root-array' ? [event] : event;
  });

describe('the hand-written validation fast path', () => {
  it('accepts exactly what the zod schema accepts, with the same output', () => {
    let fastHits = 0;
    let zodValid = 0;
    fc.assert(
      fc.property(eventArb, (json) => {
        const roundTripped: unknown = JSON.parse(JSON.stringify(json));
        const zod = agentEventSchema.safeParse(roundTripped);
        const fast = fastParse(roundTripped);
        if (fast !== undefined) {
          fastHits += 1;
          expect(zod.success).toBe(true);
          expect(fast).toStrictEqual(zod.data);
        }
        if (zod.success) zodValid += 1;
        const validated = validateAgentEvent(roundTripped);
        expect(validated.success).toBe(zod.success);
        if (validated.success) expect(validated.data).toStrictEqual(zod.data);
      }),
      { numRuns: 3_000 },
    );
    // Both paths were exercised: valid events took the fast path, invalid ones went to zod.
    expect(fastHits).toBeGreaterThan(100);
    expect(zodValid).toBeLessThan(3_000);
  });

  it('returns the validated subset for a typical event (no unknown fields)', () => {
    const result = validateAgentEvent({
      EventId: 'e',
      EventType: 'STATE_CHANGE',
      EventTimestamp: '2023-05-02T08:00:00.118Z',
      CurrentAgentSnapshot: {
        AgentStatus: { ARN: 'arn', Name: 'Available', StartTimestamp: 'x' },
        Configuration: { Username: 'u', RoutingProfile: {} },
        Contacts: [{ State: 'CONNECTED', Channel: 'VOICE', ContactId: 'c' }],
      },
      Version: '2019-05-25',
    });
    expect(result).toEqual({
      success: true,
      data: {
        EventId: 'e',
        EventType: 'STATE_CHANGE',
        EventTimestamp: '2023-05-02T08:00:00.118Z',
        CurrentAgentSnapshot: {
          AgentStatus: { ARN: 'arn', Name: 'Available' },
          Configuration: { Username: 'u' },
          Contacts: [{ State: 'CONNECTED', Channel: 'VOICE' }],
        },
      },
    });
  });
});
