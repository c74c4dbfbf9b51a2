import {
  RTA_DUPLICATE_USER_CODE_MESSAGE,
  RTA_INVALID_KEY_MESSAGE,
  RTA_NO_LOGGED_OUT_STATE_GROUP_MESSAGE,
  RTA_NULL_REFERENCE_MESSAGE,
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

  it('accepts a missing or unknown source id with 200; the worker drops its states and records them', async () => {
    const missing = await post(rta, '/Rta/State/Batch', batch([st('a', 'A')], { SourceId: '' }));
    const unknown = await post(rta, '/Rta/State/Batch', batch([st('b', 'B')], { SourceId: '42' }));

    expect(missing.status).toBe(200);
    expect(unknown.status).toBe(200);
    expect(rta.batches).toHaveLength(0);
    expect(rta.dropped).toEqual([
      expect.objectContaining({ userCode: 'a', sourceId: '', reason: 'unknown-source' }),
      expect.objectContaining({ userCode: 'b', sourceId: '42', reason: 'unknown-source' }),
    ]);
  });

  it('answers 500 for invalid JSON and a missing States (a null reference), 415 for a non-JSON content type', async () => {
    const notJson = await post(rta, '/Rta/State/Batch', '{"AuthenticationKey":');
    const noStates = await post(rta, '/Rta/State/Batch', batch([], { States: undefined }));
    const badStates = await post(rta, '/Rta/State/Batch', batch([], { States: 'x' }));
    const text = await post(rta, '/Rta/State/Batch', batch([]), { contentType: 'text/plain' });

    expect(notJson.status).toBe(500);
    expect(notJson.json).toMatchObject({ ExceptionMessage: RTA_NULL_REFERENCE_MESSAGE });
    expect(noStates.status).toBe(500);
    expect(badStates.status).toBe(500);
    expect(text.status).toBe(415);
    expect(rta.batches).toHaveLength(0);
  });

  it('answers 500 for a missing state code and for one over 300 characters, and accepts an empty one', async () => {
    const missing = await post(rta, '/Rta/State/Batch', batch([{ UserCode: 'agent.a' }]));
    const empty = await post(rta, '/Rta/State/Batch', batch([st('agent.a', '')]));
    const huge = await post(rta, '/Rta/State/Batch', batch([st('agent.a', 'x'.repeat(301))]));
    const limit = await post(rta, '/Rta/State/Batch', batch([st('agent.a', 'x'.repeat(300))]));

    expect(missing.status).toBe(500);
    expect(missing.json).toMatchObject({ ExceptionMessage: 'State code is required' });
    expect(empty.status).toBe(200);
    expect(rta.historyOf('agent.a')[0]?.stateCode).toBe('');
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

  it('accepts unknown users with 200 and records their states as dropped by the worker', async () => {
    const cur = await startRtaReceiver({ authenticationKey: KEY, knownUsers: ['Agent.A'] });
    try {
      const res = await post(
        cur,
        '/Rta/State/Batch',
        batch([st('agent.a', 'A'), st('ghost', 'G')]),
      );

      expect(res.status).toBe(200);
      expect(cur.stateOf('AGENT.A')?.userCode).toBe('Agent.A');
      expect(cur.dropped).toEqual([
        expect.objectContaining({ userCode: 'ghost', stateCode: 'G', reason: 'unknown-user' }),
      ]);
    } finally {
      await cur.stop();
    }
  });

  it('applies a snapshot and logs nobody out, answering 200, when no logged-out state group is configured', async () => {
    const bare = await startRtaReceiver({ authenticationKey: KEY, loggedOutStateCodes: [] });
    try {
      await post(bare, '/Rta/State/Batch', batch([st('agent.a', 'A'), st('agent.b', 'B')]));

      const res = await post(
        bare,
        '/Rta/State/Batch',
        batch([st('agent.a', 'Break')], { IsSnapshot: true }),
      );

      expect(res.status).toBe(200);
      expect(bare.stateOf('agent.a')?.stateCode).toBe('Break');
      expect(bare.stateOf('agent.b')?.stateCode).toBe('B');
      expect(bare.batches.at(-1)?.loggedOut).toEqual([]);
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

describe('RTA receiver (current mode: queue and worker)', () => {
  it('applies queued batches out of order when asked, and records each user history in applied order', async () => {
    const cur = await startRtaReceiver({
      authenticationKey: KEY,
      worker: { intervalMs: 60_000, order: 'reverse' },
    });
    try {
      cur.pauseWorker();
      await post(cur, '/Rta/State/Batch', batch([st('agent.a', 'Old')]));
      await post(cur, '/Rta/State/Batch', batch([st('agent.a', 'New')]));
      expect(cur.queuedBatches()).toBe(2);
      expect(cur.stateOf('agent.a')).toBeUndefined();

      cur.resumeWorker();
      cur.pauseWorker();
      cur.resumeWorker();
      await cur.stop(); // applies what is still queued
      const history = cur.historyOf('AGENT.A');

      expect(history.map((h) => h.stateCode)).toEqual(['New', 'Old']);
      expect(cur.stateOf('agent.a')?.stateCode).toBe('Old');
      expect(history[0]?.appliedAt).toBeInstanceOf(Date);
      expect(history[0]?.receivedAt.getTime()).toBeGreaterThanOrEqual(
        history[1]?.receivedAt.getTime() ?? 0,
      );
    } finally {
      await cur.stop();
    }
  });

  it('settles once the worker has applied every queued batch', async () => {
    const cur = await startRtaReceiver({ authenticationKey: KEY, worker: { intervalMs: 30 } });
    try {
      // paused, so the batch is certainly still queued when we look (the worker's 30 ms timer
      // could otherwise apply it first on a loaded machine)
      cur.pauseWorker();
      await post(cur, '/Rta/State/Batch', batch([st('agent.a', 'A')]));
      expect(cur.queuedBatches()).toBe(1);
      cur.resumeWorker();

      await cur.settled(5000);

      expect(cur.finalView()).toEqual(new Map([['agent.a', 'A']]));
      cur.pauseWorker();
      await post(cur, '/Rta/State/Batch', batch([st('agent.a', 'B')]));
      await expect(cur.settled(50)).rejects.toThrow(/still queued .*paused/);
    } finally {
      await cur.stop();
    }
  });

  it('answers "State queue is flooded" once 100 batches are queued, re-checking the queue every interval', async () => {
    const cur = await startRtaReceiver({ authenticationKey: KEY, floodCheckIntervalMs: 0 });
    try {
      cur.pauseWorker();
      for (let i = 0; i < 100; i++) {
        expect((await post(cur, '/Rta/State/Batch', batch([st(`a${i}`, 'A')]))).status).toBe(200);
      }
      const flooded = await post(cur, '/Rta/State/Batch', batch([st('x', 'A')]));
      expect(flooded.status).toBe(500);
      expect(flooded.json).toMatchObject({
        ExceptionMessage: 'State queue is flooded with 100 batches',
      });

      cur.resumeWorker();
      await cur.settled();
      expect((await post(cur, '/Rta/State/Batch', batch([st('x', 'A')]))).status).toBe(200);
    } finally {
      await cur.stop();
    }
  });

  it('keeps the flood answer until the next check of the queue', async () => {
    const cur = await startRtaReceiver({
      authenticationKey: KEY,
      floodThreshold: 1,
      floodCheckIntervalMs: 60_000,
    });
    try {
      // The first request checks an empty queue; the answer holds for the whole interval.
      cur.pauseWorker();
      expect((await post(cur, '/Rta/State/Batch', batch([st('a', 'A')]))).status).toBe(200);
      expect((await post(cur, '/Rta/State/Batch', batch([st('b', 'A')]))).status).toBe(200);
      expect(cur.queuedBatches()).toBe(2);
    } finally {
      await cur.stop();
    }
  });

  it('matches user codes case-insensitively against the known users', async () => {
    const cur = await startRtaReceiver({ authenticationKey: KEY, knownUsers: ['agent.a'] });
    try {
      await post(cur, '/Rta/State/Batch', batch([st('AGENT.A', 'Available')]));
      await post(cur, '/Rta/State/Batch', batch([st('Agent.a', 'available')]));

      expect([...cur.states().keys()]).toEqual(['agent.a']);
      expect(cur.historyOf('agent.a').map((h) => h.stateCode)).toEqual(['Available', 'Available']);
      expect(cur.dropped).toEqual([]);
    } finally {
      await cur.stop();
    }
  });
});

describe('RTA receiver fault switches', () => {
  let rta: RtaReceiver;

  beforeAll(async () => {
    rta = await startRtaReceiver({ authenticationKey: KEY });
  });
  afterAll(async () => {
    await rta.stop();
  });
  beforeEach(() => {
    rta.reset();
  });

  it('answers 500 to everything for a while, then accepts again', async () => {
    rta.failFor(60_000);
    const during = await post(rta, '/Rta/State/Batch', batch([st('a', 'A')]));
    rta.failFor(0);
    const after = await post(rta, '/Rta/State/Batch', batch([st('a', 'A')]));

    expect(during.status).toBe(500);
    expect(after.status).toBe(200);
    expect(rta.historyOf('a')).toHaveLength(1);
  });

  it('refuses connections, then listens again on the same port and url', async () => {
    const before = rta.url;
    await rta.refuseConnections();

    await expect(post(rta, '/Rta/State/Batch', batch([st('a', 'A')]))).rejects.toThrow();

    await rta.acceptConnections();
    const res = await post(rta, '/Rta/State/Batch', batch([st('a', 'A')]));
    expect(rta.url).toBe(before);
    expect(res.status).toBe(200);
    expect(rta.stateOf('a')?.stateCode).toBe('A');
  });

  it('delays every answer by the configured time', async () => {
    rta.setAnswerDelay(300);
    const started = performance.now();
    const res = await post(rta, '/Rta/State/Batch', batch([st('a', 'A')]));
    const waited = performance.now() - started;
    rta.setAnswerDelay(0);

    expect(res.status).toBe(200);
    // A lower bound only: the delay is a minimum, the machine may add to it.
    expect(waited).toBeGreaterThanOrEqual(290);
  });

  it('answers the bad-key 400 to every request while the bad-key switch is on', async () => {
    rta.setBadKey(true);
    const bad = await post(rta, '/Rta/State/Batch', batch([st('a', 'A')]));
    rta.setBadKey(false);
    const good = await post(rta, '/Rta/State/Batch', batch([st('a', 'A')]));

    expect(bad.status).toBe(400);
    expect(bad.json).toEqual({ Message: RTA_INVALID_KEY_MESSAGE });
    expect(good.status).toBe(200);
  });
});

describe('RTA receiver (synchronous mode)', () => {
  let rta: RtaReceiver;

  beforeAll(async () => {
    rta = await startRtaReceiver({
      authenticationKey: KEY,
      mode: 'synchronous',
      sourceIds: ['1'],
      dataSourceIds: { '1': 7 },
      knownUsers: ['agent.a', 'agent.b', '7'],
    });
  });
  afterAll(async () => {
    await rta.stop();
  });
  beforeEach(() => {
    rta.reset();
  });

  it('answers 400 for a missing or unknown source id', async () => {
    const missing = await post(rta, '/Rta/State/Batch', batch([], { SourceId: '' }));
    const unknown = await post(rta, '/Rta/State/Batch', batch([], { SourceId: '42' }));

    expect(missing.status).toBe(400);
    expect(missing.json).toEqual({ Message: 'Source id is required' });
    expect(unknown.status).toBe(400);
    expect(unknown.json).toEqual({ Message: 'Source id "42" not found' });
  });

  it('applies the known users, then answers 400 "No person found … DataSourceId N, SourceId S"', async () => {
    const res = await post(
      rta,
      '/Rta/State/Batch',
      batch([st('agent.a', 'A'), st('ghost', 'G'), st('7', 'Break')]),
    );

    expect(res.status).toBe(400);
    expect(res.json).toEqual({
      Message: 'No person found for UserCode ghost, DataSourceId 7, SourceId 1',
    });
    expect(rta.stateOf('agent.a')?.stateCode).toBe('A');
    expect(rta.stateOf('7')?.stateCode).toBe('Break');
    expect(rta.stateOf('ghost')).toBeUndefined();
    expect(rta.batches[0]?.status).toBe(400);
  });

  it('applies a snapshot, then answers 500 "No Logged out StateGroup found" without a logged-out state group', async () => {
    const bare = await startRtaReceiver({
      authenticationKey: KEY,
      mode: 'synchronous',
      loggedOutStateCodes: [],
    });
    try {
      await post(bare, '/Rta/State/Batch', batch([st('agent.a', 'A'), st('agent.b', 'B')]));

      const nobodyOut = await post(
        bare,
        '/Rta/State/Batch',
        batch([st('agent.a', 'Break'), st('agent.b', 'B')], { IsSnapshot: true }),
      );

      expect(nobodyOut.status).toBe(500);
      expect(nobodyOut.json).toMatchObject({
        Message: 'An error has occurred.',
        ExceptionMessage: RTA_NO_LOGGED_OUT_STATE_GROUP_MESSAGE,
      });
      expect(bare.stateOf('agent.a')?.stateCode).toBe('Break');
    } finally {
      await bare.stop();
    }
  });

  it('fails a batch that carries one user code twice with 500, applying nothing', async () => {
    const res = await post(
      rta,
      '/Rta/State/Batch',
      batch([st('agent.a', 'A'), st('AGENT.A', 'B')]),
    );

    expect(res.status).toBe(500);
    expect(res.json).toMatchObject({ ExceptionMessage: RTA_DUPLICATE_USER_CODE_MESSAGE });
    expect(rta.stateOf('agent.a')).toBeUndefined();
  });

  it('logs out the agents a snapshot leaves out, in the same request', async () => {
    await post(rta, '/Rta/State/Batch', batch([st('agent.a', 'A'), st('agent.b', 'B')]));
    const res = await post(
      rta,
      '/Rta/State/Batch',
      batch([st('agent.a', 'A')], { IsSnapshot: true }),
    );

    expect(res.status).toBe(200);
    expect(rta.stateOf('agent.b')?.stateCode).toBe(RTA_SNAPSHOT_LOGGED_OUT_STATE);
  });
});

describe('RTA receiver (snapshot-id mode)', () => {
  let rta: RtaReceiver;
  const ID = '2024-05-01T08:00:00.000Z';

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

  const close = (r: RtaReceiver, SnapshotId: unknown, key = KEY) =>
    post(r, '/Rta/State/CloseSnapshot', { AuthenticationKey: key, SourceId: '1', SnapshotId });

  it('is the mode legacy: true selects, and has no 50-state limit', async () => {
    const states = Array.from({ length: 51 }, (_, i) => st(`agent.${i}`, 'A'));

    const res = await post(rta, '/Rta/State/Batch', batch(states));

    expect(rta.mode).toBe('snapshot-id');
    expect(res.status).toBe(200);
  });

  it('closes a snapshot on CloseSnapshot (204), logging out the agents not seen with the top-level SnapshotId', async () => {
    await post(rta, '/Rta/State/Batch', batch([st('agent.a', 'A'), st('agent.b', 'B')]));
    await post(
      rta,
      '/Rta/State/Batch',
      batch([st('agent.a', 'Break')], { SnapshotId: ID, IsSnapshot: undefined }),
    );

    expect(rta.stateOf('agent.b')?.stateCode).toBe('B');

    // The same instant written differently is the same snapshot: the id is read as a date-time.
    const res = await post(rta, '/rta/state/closesnapshot', {
      AuthenticationKey: KEY,
      SourceId: '1',
      SnapshotId: '2024-05-01T08:00:00Z',
    });

    expect(res.status).toBe(204);
    expect(rta.stateOf('agent.a')?.stateCode).toBe('Break');
    expect(rta.stateOf('agent.b')?.stateCode).toBe(RTA_SNAPSHOT_LOGGED_OUT_STATE);
    expect(rta.closedSnapshots).toEqual([
      expect.objectContaining({ snapshotId: '2024-05-01T08:00:00Z', loggedOut: ['agent.b'] }),
    ]);
    expect(rta.batches[1]?.states[0]?.snapshotId).toBe(ID);
  });

  it('ignores a per-state SnapshotId, so closing logs those agents out too', async () => {
    await post(
      rta,
      '/Rta/State/Batch',
      batch([st('agent.a', 'A', { SnapshotId: ID }), st('agent.b', 'B', { SnapshotId: ID })]),
    );

    const res = await close(rta, ID);

    expect(res.status).toBe(204);
    expect(rta.closedSnapshots[0]?.loggedOut).toEqual(['agent.a', 'agent.b']);
  });

  it('answers CloseSnapshot errors, the key included, with 500', async () => {
    const wrongKey = await close(rta, ID, 'x');
    const noId = await close(rta, undefined);
    const notADate = await close(rta, 'snapshot-1');

    expect(wrongKey.status).toBe(500);
    expect(wrongKey.json).toMatchObject({ ExceptionMessage: RTA_INVALID_KEY_MESSAGE });
    expect(noId.status).toBe(500);
    expect(notADate.status).toBe(500);
    expect(rta.closedSnapshots).toHaveLength(0);
  });

  it('fails CloseSnapshot with 500 "No Logged out StateGroup found" without a logged-out state group', async () => {
    const bare = await startRtaReceiver({
      authenticationKey: KEY,
      mode: 'snapshot-id',
      loggedOutStateCodes: [],
    });
    try {
      await post(bare, '/Rta/State/Batch', batch([st('agent.a', 'A')], { SnapshotId: ID }));

      const res = await close(bare, ID);

      expect(res.status).toBe(500);
      expect(res.json).toMatchObject({ ExceptionMessage: RTA_NO_LOGGED_OUT_STATE_GROUP_MESSAGE });
      expect(bare.closedSnapshots).toHaveLength(0);
    } finally {
      await bare.stop();
    }
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
