import {
  RTA_INVALID_KEY_MESSAGE,
  RTA_NO_LOGGED_OUT_STATE_GROUP_MESSAGE,
  RTA_SNAPSHOT_LOGGED_OUT_STATE,
  type RtaReceiver,
  startRtaReceiver,
} from '../../src/rta-receiver.js';

const KEY = 'receiver-test-key';

interface StateIn {
  UserCode: string;
  StateCode?: string | null;
  StateDescription?: string;
  SnapshotId?: string;
}

function st(userCode: string, stateCode: string, extra: Partial<StateIn> = {}): StateIn {
  return { UserCode: userCode, StateCode: stateCode, StateDescription: stateCode, ...extra };
}

async function post(
  rta: RtaReceiver,
  path: string,
  body: unknown,
  init: { signal?: AbortSignal; contentType?: string } = {},
): Promise<{ status: number; json: unknown; text: string }> {
  const res = await fetch(`${rta.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': init.contentType ?? 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...(init.signal ? { signal: init.signal } : {}),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

function batch(states: StateIn[], extra: Record<string, unknown> = {}) {
  return { AuthenticationKey: KEY, SourceId: '1', IsSnapshot: false, States: states, ...extra };
}

describe('RTA receiver (current API)', () => {
  let rta: RtaReceiver;

  beforeAll(async () => {
    rta = await startRtaReceiver({ authenticationKey: KEY, sourceIds: ['1', '7'] });
  });
  afterAll(async () => {
    await rta.stop();
  });
  beforeEach(() => {
    rta.reset();
  });

  it('accepts a batch with 200 and an empty body, records it and exposes each agent state', async () => {
    const res = await post(
      rta,
      '/Rta/State/Batch',
      batch([st('agent.a', 'Available'), st('agent.b', 'OnContact')]),
    );

    expect(res.status).toBe(200);
    expect(res.text).toBe('');
    expect(rta.batches).toHaveLength(1);
    const recorded = rta.batches[0];
    expect(recorded?.isSnapshot).toBe(false);
    expect(recorded?.sourceId).toBe('1');
    expect(recorded?.receivedAt).toBeInstanceOf(Date);
    expect(recorded?.states.map((s) => s.userCode)).toEqual(['agent.a', 'agent.b']);
    expect(rta.stateOf('agent.a')).toMatchObject({
      stateCode: 'Available',
      stateDescription: 'Available',
      loggedOutBySnapshot: false,
    });
    expect(rta.states().size).toBe(2);
  });

  it('rejects a wrong authentication key with 400 and the server message, recording nothing', async () => {
    const res = await post(rta, '/Rta/State/Batch', {
      ...batch([st('agent.a', 'Available')]),
      AuthenticationKey: 'wrong',
    });

    expect(res.status).toBe(400);
    expect(res.json).toEqual({ Message: RTA_INVALID_KEY_MESSAGE });
    expect(rta.batches).toHaveLength(0);
    expect(rta.stateOf('agent.a')).toBeUndefined();
  });

  it('answers 400 for a missing or unknown source id', async () => {
    const missing = await post(rta, '/Rta/State/Batch', batch([], { SourceId: '' }));
    const unknown = await post(rta, '/Rta/State/Batch', batch([], { SourceId: '42' }));

    expect(missing.status).toBe(400);
    expect(missing.json).toEqual({ Message: 'Source id is required' });
    expect(unknown.status).toBe(400);
    expect(unknown.json).toEqual({ Message: 'Source id "42" not found' });
  });

  it('answers 400 for malformed bodies and 415 for a non-JSON content type', async () => {
    const notJson = await post(rta, '/Rta/State/Batch', '{"AuthenticationKey":');
    const noStates = await post(rta, '/Rta/State/Batch', batch([], { States: 'x' }));
    const noUser = await post(rta, '/Rta/State/Batch', batch([{ UserCode: '', StateCode: 'A' }]));
    const badSnapshot = await post(rta, '/Rta/State/Batch', batch([], { IsSnapshot: 'yes' }));
    const text = await post(rta, '/Rta/State/Batch', batch([]), { contentType: 'text/plain' });

    expect(notJson.status).toBe(400);
    expect(noStates.status).toBe(400);
    expect(noStates.json).toEqual({ Message: 'The request is invalid: States must be an array' });
    expect(noUser.status).toBe(400);
    expect(badSnapshot.status).toBe(400);
    expect(text.status).toBe(415);
    expect(rta.batches).toHaveLength(0);
  });

  it('answers 500 for a missing state code and for one over 300 characters', async () => {
    const missing = await post(rta, '/Rta/State/Batch', batch([{ UserCode: 'agent.a' }]));
    const empty = await post(rta, '/Rta/State/Batch', batch([st('agent.a', '')]));
    const huge = await post(rta, '/Rta/State/Batch', batch([st('agent.a', 'x'.repeat(301))]));
    const limit = await post(rta, '/Rta/State/Batch', batch([st('agent.a', 'x'.repeat(300))]));

    expect(missing.status).toBe(500);
    expect(missing.json).toMatchObject({ ExceptionMessage: 'State code is required' });
    expect(empty.status).toBe(500);
    expect(huge.status).toBe(500);
    expect(huge.json).toMatchObject({
      ExceptionMessage: expect.stringContaining('can not exceed 300 characters'),
    });
    expect(limit.status).toBe(200);
  });

  it('matches state codes case-insensitively and registers unknown codes', async () => {
    await post(rta, '/Rta/State/Batch', batch([st('agent.a', 'Available')]));
    await post(rta, '/Rta/State/Batch', batch([st('agent.b', 'AVAILABLE'), st('agent.c', 'Typo')]));

    expect(rta.stateOf('agent.b')?.stateCode).toBe('Available');
    expect(rta.receivedStates()[1]?.stateCode).toBe('AVAILABLE');
    expect(rta.stateCodes()).toEqual(['Available', 'Typo']);
  });

  it('keeps the last state when a user code appears twice in one batch', async () => {
    await post(
      rta,
      '/Rta/State/Batch',
      batch([st('agent.a', 'Available'), st('agent.a', 'OnContact')]),
    );

    expect(rta.stateOf('agent.a')?.stateCode).toBe('OnContact');
  });

  it('logs out, with "CCC Logged out", every agent a snapshot leaves out unless already logged out', async () => {
    await post(
      rta,
      '/Rta/State/Batch',
      batch([st('agent.a', 'Available'), st('agent.b', 'OnContact'), st('agent.c', 'LOGGED-OFF')]),
    );
    await post(rta, '/Rta/State/Batch', batch([st('agent.x', 'Break')], { SourceId: '7' }));

    const res = await post(
      rta,
      '/Rta/State/Batch',
      batch([st('agent.a', 'Break')], { IsSnapshot: true }),
    );

    expect(res.status).toBe(200);
    expect(rta.stateOf('agent.a')?.stateCode).toBe('Break');
    expect(rta.stateOf('agent.b')).toMatchObject({
      stateCode: RTA_SNAPSHOT_LOGGED_OUT_STATE,
      stateDescription: RTA_SNAPSHOT_LOGGED_OUT_STATE,
      loggedOutBySnapshot: true,
    });
    expect(rta.stateOf('agent.c')?.stateCode).toBe('LOGGED-OFF');
    expect(rta.stateOf('agent.x', '7')?.stateCode).toBe('Break');
    expect(rta.batches.at(-1)?.loggedOut).toEqual(['agent.b']);
  });

  it('accepts a single state on /Rta/State/Change', async () => {
    const res = await post(rta, '/Rta/State/Change', {
      AuthenticationKey: KEY,
      SourceId: '1',
      UserCode: 'agent.a',
      StateCode: 'Available',
    });

    expect(res.status).toBe(200);
    expect(rta.batches[0]?.endpoint).toBe('change');
    expect(rta.stateOf('agent.a')?.stateCode).toBe('Available');
  });

  it('answers 404 for CloseSnapshot, which current servers do not have', async () => {
    const res = await post(rta, '/Rta/State/CloseSnapshot', {
      AuthenticationKey: KEY,
      SourceId: '1',
      SnapshotId: 's',
    });

    expect(res.status).toBe(404);
  });

  it('answers "State queue is flooded" 500 to the next n valid batches, then accepts again', async () => {
    rta.flood(2, 1234);

    const wrongKey = await post(rta, '/Rta/State/Batch', batch([], { AuthenticationKey: 'no' }));
    const first = await post(rta, '/Rta/State/Batch', batch([st('agent.a', 'A')]));
    const second = await post(rta, '/Rta/State/Batch', batch([st('agent.a', 'A')]));
    const third = await post(rta, '/Rta/State/Batch', batch([st('agent.a', 'A')]));

    expect(wrongKey.status).toBe(400);
    expect(first.status).toBe(500);
    expect(first.json).toMatchObject({
      ExceptionMessage: 'State queue is flooded with 1234 batches',
    });
    expect(second.status).toBe(500);
    expect(third.status).toBe(200);
    expect(rta.batches).toHaveLength(1);
  });

  it('floods until switched off with flood(true)/flood(false)', async () => {
    rta.flood(true);
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      statuses.push((await post(rta, '/Rta/State/Batch', batch([st('a', 'A')]))).status);
    }
    rta.flood(false);
    statuses.push((await post(rta, '/Rta/State/Batch', batch([st('a', 'A')]))).status);

    expect(statuses).toEqual([500, 500, 500, 200]);
  });

  it('fails the next n requests with a chosen status before any validation', async () => {
    rta.failNext(1, 503, 'maintenance');

    const failed = await post(rta, '/Rta/State/Batch', batch([st('a', 'A')]));
    const ok = await post(rta, '/Rta/State/Batch', batch([st('a', 'A')]));

    expect(failed.status).toBe(503);
    expect(failed.json).toMatchObject({ ExceptionMessage: 'maintenance' });
    expect(ok.status).toBe(200);
  });

  it('adds the chosen headers to the failed answers only', async () => {
    rta.failNext(1, 503, 'maintenance', { 'retry-after': '7' });
    const send = () =>
      fetch(`${rta.url}/Rta/State/Batch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(batch([st('a', 'A')])),
      });

    const failed = await send();
    const ok = await send();
    await Promise.all([failed.text(), ok.text()]);

    expect(failed.status).toBe(503);
    expect(failed.headers.get('retry-after')).toBe('7');
    expect(ok.status).toBe(200);
    expect(ok.headers.get('retry-after')).toBeNull();
  });

  it('holds stalled requests unanswered, drops them when the client gives up, and answers again when un-stalled', async () => {
    rta.stall(true);
    const started = Date.now();
    const stalled = post(rta, '/Rta/State/Batch', batch([st('agent.a', 'A')]), {
      signal: AbortSignal.timeout(300),
    });

    await expect(stalled).rejects.toThrow();
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(rta.batches).toHaveLength(0);
    await waitUntil(() => rta.stalledCount() === 0);
    expect(rta.requests[0]?.status).toBe('dropped');

    rta.stall(false);
    const after = await post(rta, '/Rta/State/Batch', batch([st('agent.b', 'B')]));

    expect(after.status).toBe(200);
    expect(rta.stateOf('agent.a')).toBeUndefined();
    expect(rta.stateOf('agent.b')?.stateCode).toBe('B');
  });

  it('answers a held request when un-stalled while its client still waits', async () => {
    rta.stall(1);
    const pending = post(rta, '/Rta/State/Batch', batch([st('agent.a', 'A')]));
    await waitUntil(() => rta.stalledCount() === 1);

    rta.stall(false);

    expect((await pending).status).toBe(200);
    expect(rta.stateOf('agent.a')?.stateCode).toBe('A');
  });

  it('stops promptly while a request is stalled', async () => {
    const other = await startRtaReceiver({ authenticationKey: KEY });
    other.stall(true);
    const pending = post(other, '/Rta/State/Batch', batch([st('a', 'A')]));
    await waitUntil(() => other.stalledCount() === 1);
    const started = Date.now();

    await other.stop();

    expect(Date.now() - started).toBeLessThan(3_000); // a stalled request would otherwise hold it until the test times out
    await expect(pending).rejects.toThrow();
  });

  it('rejects unknown users with 400 "No person found" when asked to behave as an older server', async () => {
    const old = await startRtaReceiver({
      authenticationKey: KEY,
      knownUsers: ['agent.a'],
      rejectUnknownUsers: true,
    });
    try {
      const res = await post(
        old,
        '/Rta/State/Batch',
        batch([st('agent.a', 'A'), st('ghost', 'A')]),
      );

      expect(res.status).toBe(400);
      expect(res.json).toEqual({ Message: 'No person found for UserCode ghost, SourceId 1' });
      expect(old.batches).toHaveLength(0);
    } finally {
      await old.stop();
    }
  });

  it('fails closing a snapshot with "No Logged out StateGroup found" when no logged-out state group is configured', async () => {
    const bare = await startRtaReceiver({ authenticationKey: KEY, loggedOutStateCodes: [] });
    try {
      await post(bare, '/Rta/State/Batch', batch([st('agent.a', 'A'), st('agent.b', 'B')]));

      const nobodyOut = await post(
        bare,
        '/Rta/State/Batch',
        batch([st('agent.a', 'A'), st('agent.b', 'B')], { IsSnapshot: true }),
      );
      const someoneOut = await post(
        bare,
        '/Rta/State/Batch',
        batch([st('agent.a', 'Break')], { IsSnapshot: true }),
      );

      expect(nobodyOut.status).toBe(200);
      expect(someoneOut.status).toBe(500);
      expect(someoneOut.json).toMatchObject({
        Message: 'An error has occurred.',
        ExceptionMessage: RTA_NO_LOGGED_OUT_STATE_GROUP_MESSAGE,
      });
      expect(bare.batches).toHaveLength(2);
      expect(bare.stateOf('agent.a')?.stateCode).toBe('A');
      expect(bare.stateOf('agent.b')?.stateCode).toBe('B');
      expect(bare.requests.at(-1)).toMatchObject({
        status: 500,
        message: RTA_NO_LOGGED_OUT_STATE_GROUP_MESSAGE,
      });
    } finally {
      await bare.stop();
    }
  });

  it('does not log an agent out again on the next snapshot, whatever loggedOutStateCodes lists', async () => {
    const custom = await startRtaReceiver({
      authenticationKey: KEY,
      loggedOutStateCodes: ['LOGGED-OFF'],
    });
    try {
      await post(custom, '/Rta/State/Batch', batch([st('agent.a', 'A'), st('agent.b', 'B')]));
      const snapshot = batch([st('agent.a', 'A')], { IsSnapshot: true });

      await post(custom, '/Rta/State/Batch', snapshot);
      await post(custom, '/Rta/State/Batch', snapshot);

      expect(custom.batches.map((b) => b.loggedOut)).toEqual([[], ['agent.b'], []]);
      expect(custom.stateOf('agent.b')?.stateCode).toBe(RTA_SNAPSHOT_LOGGED_OUT_STATE);
    } finally {
      await custom.stop();
    }
  });

  it('waits for batches and times out with a clear message', async () => {
    const waiting = rta.waitForBatches(1, 2000);
    await post(rta, '/Rta/State/Batch', batch([st('a', 'A')]));

    await expect(waiting).resolves.toBeUndefined();
    await expect(rta.waitForBatches(5, 50)).rejects.toThrow(/waiting for 5 batches \(got 1\)/);
  });
});

describe('RTA receiver (legacy mode)', () => {
  let rta: RtaReceiver;

  beforeAll(async () => {
    rta = await startRtaReceiver({
      authenticationKey: KEY,
      legacy: true,
      basePath: '/TeleoptiWFM/Web',
    });
  });
  afterAll(async () => {
    await rta.stop();
  });
  beforeEach(() => {
    rta.reset();
  });

  it('rejects a batch of more than 50 states with 400 and accepts 50', async () => {
    const states = Array.from({ length: 51 }, (_, i) => st(`agent.${i}`, 'A'));

    const tooMany = await post(rta, '/Rta/State/Batch', batch(states));
    const fifty = await post(rta, '/Rta/State/Batch', batch(states.slice(0, 50)));

    expect(tooMany.status).toBe(400);
    expect(tooMany.json).toEqual({
      Message: 'The request is invalid: a batch may hold at most 50 states, this one has 51',
    });
    expect(fifty.status).toBe(200);
  });

  it('closes a snapshot on CloseSnapshot, logging out the agents not seen in that SnapshotId', async () => {
    await post(rta, '/Rta/State/Batch', batch([st('agent.a', 'A'), st('agent.b', 'B')]));
    await post(
      rta,
      '/Rta/State/Batch',
      batch([st('agent.a', 'Break', { SnapshotId: '2024-05-01T08:00:00Z' })], { IsSnapshot: true }),
    );

    expect(rta.stateOf('agent.b')?.stateCode).toBe('B');

    const res = await post(rta, '/rta/state/closesnapshot', {
      AuthenticationKey: KEY,
      SourceId: '1',
      SnapshotId: '2024-05-01T08:00:00Z',
    });

    expect(res.status).toBe(200);
    expect(rta.stateOf('agent.a')?.stateCode).toBe('Break');
    expect(rta.stateOf('agent.b')?.stateCode).toBe(RTA_SNAPSHOT_LOGGED_OUT_STATE);
    expect(rta.closedSnapshots).toEqual([
      expect.objectContaining({ snapshotId: '2024-05-01T08:00:00Z', loggedOut: ['agent.b'] }),
    ]);
    expect(rta.batches[1]?.states[0]?.snapshotId).toBe('2024-05-01T08:00:00Z');
  });

  it('fails CloseSnapshot with "No Logged out StateGroup found" without a logged-out state group, keeping the snapshot open', async () => {
    const bare = await startRtaReceiver({
      authenticationKey: KEY,
      legacy: true,
      loggedOutStateCodes: [],
    });
    try {
      await post(bare, '/Rta/State/Batch', batch([st('agent.a', 'A'), st('agent.b', 'B')]));
      await post(bare, '/Rta/State/Batch', batch([st('agent.a', 'Break', { SnapshotId: 's1' })]));
      await post(
        bare,
        '/Rta/State/Batch',
        batch([st('agent.a', 'A', { SnapshotId: 's2' }), st('agent.b', 'B', { SnapshotId: 's2' })]),
      );
      const close = (SnapshotId: string) =>
        post(bare, '/Rta/State/CloseSnapshot', {
          AuthenticationKey: KEY,
          SourceId: '1',
          SnapshotId,
        });

      const failed = await close('s1');
      const nobodyOut = await close('s2');
      const again = await close('s1');

      expect(failed.status).toBe(500);
      expect(failed.json).toMatchObject({
        ExceptionMessage: RTA_NO_LOGGED_OUT_STATE_GROUP_MESSAGE,
      });
      expect(again.status).toBe(500);
      expect(nobodyOut.status).toBe(200);
      expect(bare.closedSnapshots.map((c) => c.snapshotId)).toEqual(['s2']);
      expect(bare.stateOf('agent.b')?.stateCode).toBe('B');
    } finally {
      await bare.stop();
    }
  });

  it('validates CloseSnapshot: key, then snapshot id', async () => {
    const wrongKey = await post(rta, '/Rta/State/CloseSnapshot', {
      AuthenticationKey: 'x',
      SourceId: '1',
      SnapshotId: 's',
    });
    const noId = await post(rta, '/Rta/State/CloseSnapshot', {
      AuthenticationKey: KEY,
      SourceId: '1',
    });

    expect(wrongKey.status).toBe(400);
    expect(wrongKey.json).toEqual({ Message: RTA_INVALID_KEY_MESSAGE });
    expect(noId.status).toBe(400);
    expect(rta.closedSnapshots).toHaveLength(0);
  });

  it('serves the endpoints under the configured base path only', async () => {
    expect(rta.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/TeleoptiWFM\/Web$/);
    const res = await fetch(`${new URL(rta.url).origin}/Rta/State/Batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(batch([])),
    });

    expect(res.status).toBe(404);
  });
});

async function waitUntil(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
