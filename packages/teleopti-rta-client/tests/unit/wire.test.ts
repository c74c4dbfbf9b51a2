import fc from 'fast-check';
import { InvalidStateError, type RtaState } from '../../src/index.js';
import {
  assertSendable,
  batchPrefix,
  classifyAnswer,
  lastPerUser,
  namedNotFound,
  serializeBatch,
  serverMessage,
  snapshotIdPrefix,
  usersNamedNotFound,
} from '../../src/wire.js';

const stateArb = fc.record({
  userCode: fc.string({ minLength: 1, unit: 'binary' }),
  stateCode: fc.string({ minLength: 1, maxLength: 300, unit: 'binary' }),
  stateDescription: fc.string({ unit: 'binary' }),
});

describe('batch body', () => {
  it('is the JSON the API expects for any strings', () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.string(),
        fc.boolean(),
        fc.array(stateArb, { maxLength: 30 }),
        (key, source, isSnapshot, states) => {
          const body = JSON.parse(serializeBatch(batchPrefix(key, source, isSnapshot), states));

          expect(body).toEqual({
            AuthenticationKey: key,
            SourceId: source,
            IsSnapshot: isSnapshot,
            States: states.map((s) => ({
              UserCode: s.userCode,
              StateCode: s.stateCode,
              StateDescription: s.stateDescription,
            })),
          });
        },
      ),
    );
  });

  it('puts the snapshot-id generation SnapshotId once, at the top level, and no state carries one', () => {
    const states: RtaState[] = [
      { userCode: 'a', stateCode: 'A', stateDescription: 'A' },
      { userCode: 'b', stateCode: 'B', stateDescription: 'B' },
    ];

    const body = JSON.parse(
      serializeBatch(snapshotIdPrefix('k', '1', '2024-05-01T08:00:00.000Z'), states),
    );

    expect(body.SnapshotId).toBe('2024-05-01T08:00:00.000Z');
    expect(body.IsSnapshot).toBeUndefined();
    expect(body.States.every((s: object) => !('SnapshotId' in s))).toBe(true);
  });
});

describe('one state per user', () => {
  it('keeps the last state of each user, user codes compared case-insensitively', () => {
    const s = (userCode: string, stateCode: string): RtaState => ({
      userCode,
      stateCode,
      stateDescription: stateCode,
    });

    const { states, superseded } = lastPerUser([
      s('a', '1'),
      s('b', '1'),
      s('A', '2'),
      s('c', '1'),
      s('b', '3'),
    ]);

    expect(states.map((x) => `${x.userCode}=${x.stateCode}`)).toEqual(['A=2', 'c=1', 'b=3']);
    expect(superseded).toBe(2);
  });
});

describe('state checks', () => {
  it('accepts codes of 1 to 300 characters and lists every bad state', () => {
    expect(() =>
      assertSendable([{ userCode: 'a', stateCode: 'x'.repeat(300), stateDescription: '' }]),
    ).not.toThrow();

    let err: unknown;
    try {
      assertSendable([
        { userCode: '', stateCode: 'A', stateDescription: '' },
        { userCode: 'b', stateCode: 'A', stateDescription: 'A' },
        { userCode: 'c', stateCode: 'x'.repeat(301), stateDescription: '' },
        { userCode: 'd', stateCode: 'A' } as RtaState,
      ]);
    } catch (e) {
      err = e;
    }

    expect(err).toBeInstanceOf(InvalidStateError);
    expect((err as InvalidStateError).userCodes).toEqual(['#0', 'c', 'd']);
  });
});

describe('white-space user codes', () => {
  it('rejects a user code that is only white space, naming it by position', () => {
    let err: unknown;
    try {
      assertSendable([
        { userCode: ' ', stateCode: 'A', stateDescription: '' },
        { userCode: 'ok', stateCode: 'A', stateDescription: '' },
        { userCode: '\t\u00a0', stateCode: 'A', stateDescription: '' },
      ]);
    } catch (e) {
      err = e;
    }

    expect(err).toBeInstanceOf(InvalidStateError);
    expect((err as InvalidStateError).userCodes).toEqual(['#0', '#2']);
    expect((err as Error).message).toContain('state #0 (#0): userCode is only white space');
    expect(() =>
      assertSendable([{ userCode: ' padded ', stateCode: 'A', stateDescription: '' }]),
    ).not.toThrow();
  });
});

describe('user codes named by "No person found"', () => {
  const states = (...codes: string[]): RtaState[] =>
    codes.map((userCode) => ({ userCode, stateCode: 'A', stateDescription: 'A' }));

  it.each([
    ['No person found for UserCode ghost, DataSourceId 3, SourceId 1', ['ghost']],
    ['No person found for UserCode GHOST, DataSourceId 3, SourceId 1', ['ghost']],
    ['No person found for UserCode ghost, SourceId 1', ['ghost']],
    ['No person found for SourceId 1 and UserCode ghost', ['ghost']],
    // A user code equal to the DataSourceId or the SourceId is not read from the tail.
    ['No person found for UserCode ghost, DataSourceId 1, SourceId 1', ['ghost']],
    ['No person found for UserCode 1, DataSourceId 1, SourceId 1', ['1']],
    [
      'No person found for UserCode ghost, DataSourceId 3, SourceId 1\nNo person found for UserCode agent.b, DataSourceId 3, SourceId 1',
      ['agent.b', 'ghost'],
    ],
    ['No person found for UserCode agent.b.c, DataSourceId 3, SourceId 1', []],
    ['No person found for UserCode someone.else, DataSourceId 3, SourceId 1', []],
    ['Source id "1" not found: agent.b', []],
  ])('reads %j as naming %j of the batch', (message, expected) => {
    const named = usersNamedNotFound(message, states('agent.a', 'agent.b', 'ghost', '1', 'ghost'));
    expect([...named].sort()).toEqual(expected);
  });

  it('takes a user code with commas and spaces whole', () => {
    expect(
      namedNotFound('No person found for UserCode Doe, John, DataSourceId 2, SourceId 1'),
    ).toEqual(['Doe, John']);
  });
});

describe('server messages', () => {
  it.each([
    ['{"Message":"Source id is required"}', 'Source id is required'],
    [
      '{"Message":"An error has occurred.","ExceptionMessage":"State code is required","ExceptionType":"X"}',
      'State code is required',
    ],
    ['"plain json string"', 'plain json string'],
    ['<html>Bad gateway</html>', '<html>Bad gateway</html>'],
    ['', 'Bad Request'],
    ['{not json', '{not json'],
  ])('reads %j as %j', (body, expected) => {
    expect(serverMessage(body, 'Bad Request')).toBe(expected);
  });

  it('cuts very long bodies', () => {
    expect(serverMessage('x'.repeat(10_000), '').length).toBe(501);
  });

  it.each([
    [
      'You supplied an invalid authentication key. Please verify the key and try again.',
      'invalid-key',
    ],
    ['Source id is required', 'unknown-source'],
    ['Source id "9" not found', 'unknown-source'],
    [
      'Using the default authentication key with more than one tenant is not allowed',
      'invalid-key',
    ],
    ['No person found for UserCode a, DataSourceId 3, SourceId 1', 'other'],
    // Merely naming the field is not the bad-key answer.
    ['The AuthenticationKey field is required.', 'other'],
    ['Invalid AuthenticationKey format in States[0]', 'other'],
    ['No Logged out StateGroup found', 'no-logged-out-group'],
    ['State code is required', 'content'],
    ['Sequence contains more than one matching element', 'content'],
    ['State queue is flooded with 120 batches', 'other'],
  ])('classifies the message %j as %s', (message, kind) => {
    expect(classifyAnswer(message)).toBe(kind);
  });
});
