import fc from 'fast-check';
import { InvalidStateError, type RtaState } from '../../src/index.js';
import {
  assertSendable,
  batchPrefix,
  classifyBadRequest,
  serializeBatch,
  serverMessage,
  usersNamedNotFound,
} from '../../src/wire.js';

const stateArb = fc.record({
  userCode: fc.string({ minLength: 1, unit: 'binary' }),
  stateCode: fc.string({ minLength: 1, maxLength: 300, unit: 'binary' }),
  stateDescription: fc.string({ unit: 'binary' }),
});

describe('batch body', () => {
  it('is the JSON the API expects for any strings, in any slice', () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.string(),
        fc.boolean(),
        fc.array(stateArb, { maxLength: 30 }),
        fc.nat(),
        fc.nat(),
        fc.option(fc.string(), { nil: undefined }),
        (key, source, isSnapshot, states, a, b, snapshotId) => {
          const start = states.length === 0 ? 0 : a % states.length;
          const end = start + (states.length === 0 ? 0 : b % (states.length - start + 1));

          const body = JSON.parse(
            serializeBatch(batchPrefix(key, source, isSnapshot), states, start, end, snapshotId),
          );

          expect(body).toEqual({
            AuthenticationKey: key,
            SourceId: source,
            IsSnapshot: isSnapshot,
            States: states.slice(start, end).map((s) => ({
              UserCode: s.userCode,
              StateCode: s.stateCode,
              StateDescription: s.stateDescription,
              ...(snapshotId === undefined ? {} : { SnapshotId: snapshotId }),
            })),
          });
        },
      ),
    );
  });

  it('puts the legacy SnapshotId on every state', () => {
    const states: RtaState[] = [
      { userCode: 'a', stateCode: 'A', stateDescription: 'A' },
      { userCode: 'b', stateCode: 'B', stateDescription: 'B' },
    ];

    const body = JSON.parse(serializeBatch(batchPrefix('k', '1', false), states, 0, 2, 'snap-1'));

    expect(body.States.map((s: { SnapshotId: string }) => s.SnapshotId)).toEqual([
      'snap-1',
      'snap-1',
    ]);
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
    ['No person found for UserCode ghost, SourceId 1', ['ghost']],
    ['No person found for UserCode "ghost".', ['ghost']],
    ['No person found for UserCodes ghost, agent.b, SourceId 1', ['agent.b', 'ghost']],
    ['No person found for UserCode agent.b.c, SourceId 1', []],
    ['No person found for UserCode someone.else, SourceId 1', []],
    ['Source id "1" not found: agent.b', []],
  ])('reads %j as naming %j of the batch', (message, expected) => {
    const named = usersNamedNotFound(message, states('agent.a', 'agent.b', 'ghost', '1', 'ghost'));
    expect([...named].sort()).toEqual(expected);
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
    ['No person found for UserCode a, DataSourceId 3, SourceId 1', 'rejected'],
    ['The request is invalid: States must be an array', 'rejected'],
  ])('classifies the 400 message %j as %s', (message, kind) => {
    expect(classifyBadRequest(message)).toBe(kind);
  });
});
