import { type RtaReceiver, startRtaReceiver } from '@connect-wfm/testkit';
import {
  type RejectedBatchError,
  RetriesExhaustedError,
  RtaAbortedError,
  type RtaRetryEvent,
  TeleoptiRtaClient,
  type TeleoptiRtaClientOptions,
} from '../../src/index.js';
import { agents, FAST_RETRY, recordingLogger, waitUntil } from '../helpers.js';

describe('sendStates against the testkit RTA receiver', () => {
  let rta: RtaReceiver;
  const clients: TeleoptiRtaClient[] = [];

  function client(extra: Partial<TeleoptiRtaClientOptions> = {}): TeleoptiRtaClient {
    const c = new TeleoptiRtaClient({
      baseUrl: rta.url,
      authenticationKey: rta.authenticationKey,
      sourceId: '1',
      retry: FAST_RETRY,
      ...extra,
    });
    clients.push(c);
    return c;
  }

  beforeAll(async () => {
    rta = await startRtaReceiver({ authenticationKey: 'send-states-key' });
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await rta.stop();
  });
  beforeEach(() => {
    rta.reset();
  });

  it('splits 2,500 states into 3 requests of at most 1,000, and every state arrives in order', async () => {
    const states = agents(2500);

    const report = await client({ chunkSize: 1000 }).sendStates(states);

    expect(rta.batches.map((b) => b.states.length)).toEqual([1000, 1000, 500]);
    expect(rta.batches.every((b) => !b.isSnapshot)).toBe(true);
    expect(rta.receivedStates().map((s) => s.userCode)).toEqual(states.map((s) => s.userCode));
    expect(rta.receivedStates()[0]).toEqual({
      userCode: 'agent.00000',
      stateCode: 'Available',
      stateDescription: 'Available',
    });
    expect(report).toMatchObject({
      requests: 3,
      retries: 0,
      acceptedRequests: 3,
      statesSent: 2500,
    });
    expect(report.rejected).toEqual([]);
  });

  it('sends nothing for an empty list', async () => {
    const report = await client().sendStates([]);

    expect(report.requests).toBe(0);
    expect(rta.requests).toHaveLength(0);
  });

  it('retries while the state queue is flooded and then delivers everything, in order, without loss', async () => {
    const retries: RtaRetryEvent[] = [];
    const c = client({ chunkSize: 1000, onRetry: (e) => retries.push(e) });
    const states = agents(2500, 'OnContact');
    rta.flood(4);

    const report = await c.sendStates(states);

    expect(rta.requests.map((r) => r.status)).toEqual([500, 500, 500, 500, 200, 200, 200]);
    expect(rta.receivedStates().map((s) => s.userCode)).toEqual(states.map((s) => s.userCode));
    expect(report).toMatchObject({ requests: 7, retries: 4, statesSent: 2500 });
    expect(retries).toHaveLength(4);
    expect(retries[0]).toMatchObject({
      kind: 'batch',
      attempt: 1,
      reason: 'server-error',
      status: 500,
      message: 'State queue is flooded with 5000 batches',
      states: 1000,
    });
    expect(retries.every((e) => e.delayMs >= 0 && e.delayMs <= FAST_RETRY.maxDelayMs)).toBe(true);
    expect(c.counters()).toMatchObject({ retries: 4, serverErrors: 4, statesSent: 2500 });
  });

  it('honours a 503 Retry-After, bounded by retry.maxDelayMs', async () => {
    const delays: number[] = [];
    const c = client({
      retry: { initialDelayMs: 1, maxDelayMs: 300 },
      onRetry: (e) => delays.push(e.delayMs),
    });
    rta.failNext(1, 503, 'Service Unavailable', { 'retry-after': '3600' });
    const started = Date.now();

    const report = await c.sendStates(agents(1));

    expect(delays).toEqual([300]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(report).toMatchObject({ requests: 2, retries: 1, statesSent: 1 });
  });

  it('keeps the last state of an agent that appears in two chunks', async () => {
    const states = [
      ...agents(3, 'Available'),
      { userCode: 'agent.00000', stateCode: 'Break', stateDescription: 'Break' },
    ];

    await client({ chunkSize: 2 }).sendStates(states);

    expect(rta.batches).toHaveLength(2);
    expect(rta.stateOf('agent.00000')?.stateCode).toBe('Break');
  });

  it('retries an attempt that times out and succeeds on the next one', async () => {
    const retries: RtaRetryEvent[] = [];
    rta.stall(1);

    // The stalled first attempt always times out; 1 s leaves the second one room on a busy machine.
    const report = await client({ timeoutMs: 1_000, onRetry: (e) => retries.push(e) }).sendStates(
      agents(3),
    );

    expect(report).toMatchObject({ requests: 2, retries: 1, statesSent: 3 });
    expect(retries.map((e) => e.reason)).toEqual(['timeout']);
    expect(rta.batches).toHaveLength(1);
  });

  it('ends promptly with an AbortError when aborted while the server stalls, and stops retrying', async () => {
    rta.stall(true);
    const controller = new AbortController();
    const c = client({ timeoutMs: 60_000 });
    const sending = c.sendStates(agents(10), { signal: controller.signal });
    await waitUntil(() => rta.stalledCount() === 1);
    const abortedAt = Date.now();

    controller.abort(new Error('shutting down'));

    const err = await sending.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(Date.now() - abortedAt).toBeLessThan(2_000); // against a 60 s timeout or 10 s retry wait
    expect(err).toBeInstanceOf(RtaAbortedError);
    expect(err).toMatchObject({ name: 'AbortError', code: 'ABORTED', fatal: false });
    expect((err as RtaAbortedError).report).toMatchObject({ requests: 1, statesSent: 0 });
    const seen = rta.requests.length;
    await new Promise((r) => setTimeout(r, 150));
    expect(rta.requests.length).toBe(seen);
    rta.stall(false);
  });

  it('ends a retry wait as soon as the signal fires', async () => {
    // Retry-After makes the wait a fixed 10 s; the jittered backoff alone could be a few ms.
    rta.failNext(1, 503, 'Service Unavailable', { 'retry-after': '10' });
    const controller = new AbortController();
    const c = client({ retry: { initialDelayMs: 10_000, maxDelayMs: 10_000 } });
    const sending = c.sendStates(agents(1), { signal: controller.signal });
    await waitUntil(() => rta.requests.length === 1);
    await new Promise((r) => setTimeout(r, 20));
    const abortedAt = Date.now();

    controller.abort();

    await expect(sending).rejects.toBeInstanceOf(RtaAbortedError);
    expect(Date.now() - abortedAt).toBeLessThan(2_000); // against a 10 s retry wait
    expect(rta.requests).toHaveLength(1);
  });

  it('does not send at all when the signal is already aborted', async () => {
    await expect(
      client().sendStates(agents(1), { signal: AbortSignal.abort() }),
    ).rejects.toBeInstanceOf(RtaAbortedError);
    expect(rta.requests).toHaveLength(0);
  });

  it('retries network errors and gives up after retry.maxAttempts with RetriesExhaustedError', async () => {
    const gone = await startRtaReceiver();
    const url = gone.url;
    await gone.stop();
    const c = new TeleoptiRtaClient({
      baseUrl: url,
      authenticationKey: 'k',
      sourceId: '1',
      retry: { ...FAST_RETRY, maxAttempts: 3 },
    });
    clients.push(c);

    const err = await c.sendStates(agents(1)).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(RetriesExhaustedError);
    expect((err as RetriesExhaustedError).attempts).toBe(3);
    expect((err as Error).message).toMatch(/ECONNREFUSED/);
    expect(c.counters()).toMatchObject({ requests: 3, networkErrors: 3, retries: 2 });
  });

  it('synchronous server: sets an unknown user aside, sends its chunk again without it, and delivers every other chunk', async () => {
    const strict = await startRtaReceiver({
      authenticationKey: 'k',
      mode: 'synchronous',
      knownUsers: agents(4).map((s) => s.userCode),
    });
    const logger = recordingLogger();
    const c = new TeleoptiRtaClient({
      baseUrl: strict.url,
      authenticationKey: 'k',
      sourceId: '1',
      chunkSize: 2,
      logger,
    });
    clients.push(c);
    const states = [
      ...agents(2),
      { userCode: 'ghost', stateCode: 'A', stateDescription: 'A' },
      ...agents(4).slice(2),
    ];
    try {
      const report = await c.sendStates(states);

      expect(report.rejectedUsers).toEqual(['ghost']);
      expect(report.rejected).toHaveLength(1);
      const rejected = report.rejected[0] as RejectedBatchError;
      expect(rejected).toMatchObject({ resentWithout: true, userCodes: ['ghost'], fatal: false });
      expect(rejected.serverMessage).toBe(
        'No person found for UserCode ghost, DataSourceId 1, SourceId 1',
      );
      expect(report.statesSent).toBe(4);
      expect(strict.requests.map((r) => `${r.stateCount}:${r.status}`)).toEqual([
        '2:200',
        '2:400',
        '1:200',
        '1:200',
      ]);
      expect(Object.fromEntries(strict.finalView())).toEqual(
        Object.fromEntries(agents(4).map((s) => [s.userCode, 'Available'])),
      );
      expect(c.counters()).toMatchObject({ rejectedBatches: 1, rejectedStates: 1 });
      expect(logger.lines.some((l) => l.startsWith('warn') && l.includes('ghost'))).toBe(true);
    } finally {
      await strict.stop();
    }
  });

  it('snapshot-id server: sets an unknown user aside the same way', async () => {
    const strict = await startRtaReceiver({
      authenticationKey: 'k',
      legacy: true,
      knownUsers: agents(100).map((s) => s.userCode),
    });
    const c = new TeleoptiRtaClient({
      baseUrl: strict.url,
      authenticationKey: 'k',
      sourceId: '1',
      legacy: true,
    });
    clients.push(c);
    const states = [
      ...agents(60),
      { userCode: 'ghost', stateCode: 'A', stateDescription: 'A' },
      ...agents(100).slice(60),
    ];
    try {
      const report = await c.sendStates(states);

      expect(report.rejectedUsers).toEqual(['ghost']);
      expect(report.statesSent).toBe(100);
      expect(strict.requests.map((r) => `${r.stateCount}:${r.status}`)).toEqual([
        '101:400',
        '100:200',
      ]);
      expect(strict.finalView().size).toBe(100);
    } finally {
      await strict.stop();
    }
  });

  it('posts under a base URL with a path', async () => {
    const nested = await startRtaReceiver({ authenticationKey: 'k', basePath: '/TeleoptiWFM/Web' });
    const c = new TeleoptiRtaClient({ baseUrl: nested.url, authenticationKey: 'k', sourceId: '1' });
    clients.push(c);
    try {
      await c.sendStates(agents(1));

      expect(nested.requests[0]?.path).toBe('/TeleoptiWFM/Web/Rta/State/Batch');
      expect(nested.batches).toHaveLength(1);
    } finally {
      await nested.stop();
    }
  });

  it('tells onRequest about every attempt and survives a throwing hook', async () => {
    const outcomes: string[] = [];
    const logger = recordingLogger();
    rta.flood(1);
    const c = client({
      logger,
      onRequest: (e) => {
        outcomes.push(`${e.outcome}:${e.status}`);
        throw new Error('hook bug');
      },
    });

    await c.sendStates(agents(1));

    expect(outcomes).toEqual(['retry:500', 'accepted:200']);
    expect(logger.lines.filter((l) => l.includes('onRequest hook threw'))).toHaveLength(2);
  });
});
