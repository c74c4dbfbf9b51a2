/**
 * The client against each server generation the testkit receiver emulates
 * (docs/teleopti-rta.md#server-generations), and the retry bounds a daemon relies on.
 */
import { type RtaReceiver, type RtaReceiverOptions, startRtaReceiver } from '@connect-wfm/testkit';
import {
  InvalidAuthenticationKeyError,
  NoLoggedOutStateGroupError,
  RejectedBatchError,
  RetriesExhaustedError,
  RtaAbortedError,
  type RtaState,
  TeleoptiRtaClient,
  type TeleoptiRtaClientOptions,
} from '../../src/index.js';
import { agents, FAST_RETRY } from '../helpers.js';

const KEY = 'generations-test-key';

const st = (userCode: string, stateCode: string): RtaState => ({
  userCode,
  stateCode,
  stateDescription: stateCode,
});

describe('the client against each server generation', () => {
  const receivers: RtaReceiver[] = [];
  const clients: TeleoptiRtaClient[] = [];

  async function setup(
    receiver: RtaReceiverOptions,
    client: Partial<TeleoptiRtaClientOptions> = {},
  ): Promise<{ rta: RtaReceiver; c: TeleoptiRtaClient }> {
    const rta = await startRtaReceiver({ authenticationKey: KEY, ...receiver });
    receivers.push(rta);
    const c = new TeleoptiRtaClient({
      baseUrl: rta.url,
      authenticationKey: KEY,
      sourceId: '1',
      retry: FAST_RETRY,
      ...client,
    });
    clients.push(c);
    return { rta, c };
  }

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all(receivers.map((r) => r.stop()));
  });

  it('current: an unknown user is accepted with 200 and dropped later by the server; the client cannot tell, the rest is applied', async () => {
    const { rta, c } = await setup({ knownUsers: ['agent.a', 'agent.b'] });

    const report = await c.sendSnapshot([st('agent.a', 'A'), st('ghost', 'G'), st('agent.b', 'B')]);
    await rta.settled();

    expect(report.rejectedUsers).toEqual([]);
    expect(report.statesSent).toBe(3);
    expect(rta.dropped.map((d) => `${d.userCode}:${d.reason}`)).toEqual(['ghost:unknown-user']);
    expect(Object.fromEntries(rta.finalView())).toEqual({ 'agent.a': 'A', 'agent.b': 'B' });
  });

  it('current: a wrong source id is accepted with 200 and every state is dropped later', async () => {
    const { rta, c } = await setup({}, { sourceId: '9' });

    const report = await c.sendStates([st('agent.a', 'A')]);
    await rta.settled();

    expect(report.acceptedRequests).toBe(1);
    expect(rta.dropped).toEqual([
      expect.objectContaining({ userCode: 'agent.a', sourceId: '9', reason: 'unknown-source' }),
    ]);
    expect(rta.finalView().size).toBe(0);
  });

  it('current: batches applied in reverse order still end on the newest state, because each user is sent once per call', async () => {
    const { rta, c } = await setup(
      { worker: { intervalMs: 50, order: 'reverse' } },
      { chunkSize: 1 },
    );

    const report = await c.sendStates([
      st('agent.a', 'Old'),
      st('agent.b', 'B'),
      st('AGENT.A', 'New'),
    ]);
    await rta.settled();

    expect(report.superseded).toBe(1);
    expect(rta.requests).toHaveLength(2);
    expect(rta.historyOf('agent.a').map((h) => h.stateCode)).toEqual(['New']);
  });

  it('current: a snapshot without a logged-out state group is accepted (nobody is logged out)', async () => {
    const { rta, c } = await setup({ loggedOutStateCodes: [] });
    await c.sendStates([st('agent.a', 'A'), st('agent.b', 'B')]);

    const report = await c.sendSnapshot([st('agent.a', 'Break')]);

    expect(report.acceptedRequests).toBe(1);
    expect(rta.stateOf('agent.b')?.stateCode).toBe('B');
  });

  it('synchronous: a user code equal to the DataSourceId number is not misread as named', async () => {
    const { rta, c } = await setup({
      mode: 'synchronous',
      dataSourceIds: { '1': 7 },
      knownUsers: ['7', 'agent.a'],
    });

    const report = await c.sendStates([st('7', 'A'), st('ghost', 'G'), st('agent.a', 'B')]);

    expect(report.rejectedUsers).toEqual(['ghost']);
    expect(rta.requests.map((r) => `${r.stateCount}:${r.status}`)).toEqual(['3:400', '2:200']);
    expect(Object.fromEntries(rta.finalView())).toEqual({ '7': 'A', 'agent.a': 'B' });
  });

  it('synchronous: sets every unknown user of a snapshot aside, one answer at a time, and the snapshot is still accepted', async () => {
    const { rta, c } = await setup({
      mode: 'synchronous',
      knownUsers: agents(3).map((s) => s.userCode),
    });
    await c.sendStates([...agents(3), st('agent.gone', 'X')]).catch(() => undefined);

    const report = await c.sendSnapshot([
      st('ghost.1', 'A'),
      ...agents(2, 'Break'),
      st('ghost.2', 'A'),
    ]);

    expect(report.rejectedUsers).toEqual(['ghost.1', 'ghost.2']);
    expect(rta.batches.at(-1)?.isSnapshot).toBe(true);
    expect(rta.batches.at(-1)?.loggedOut).toEqual(['agent.00002']);
    expect(rta.stateOf('agent.00001')?.stateCode).toBe('Break');
  });

  it('synchronous: sends a user given twice once, so a server that fails duplicates accepts the batch', async () => {
    const { rta, c } = await setup({ mode: 'synchronous' });

    const report = await c.sendStates([st('agent.a', 'A'), st('agent.b', 'B'), st('Agent.A', 'C')]);

    expect(report).toMatchObject({ acceptedRequests: 1, superseded: 1, statesSent: 2 });
    expect(rta.requests.map((r) => r.status)).toEqual([200]);
    expect(rta.stateOf('agent.a')?.stateCode).toBe('C');
  });

  it('synchronous: "No Logged out StateGroup found" is a fatal, non-retryable configuration error, not a retry loop', async () => {
    const { rta, c } = await setup({ mode: 'synchronous', loggedOutStateCodes: [] });

    const err = await c.sendSnapshot(agents(2)).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(NoLoggedOutStateGroupError);
    expect(err).toMatchObject({
      code: 'NO_LOGGED_OUT_STATE_GROUP',
      fatal: true,
      retryable: false,
      status: 500,
    });
    expect(rta.requests).toHaveLength(1);
    // The server applied the states before failing.
    expect(rta.stateOf('agent.00001')?.stateCode).toBe('Available');
  });

  it('a 400 that merely mentions "AuthenticationKey" is a rejected batch, not a bad key', async () => {
    const { rta, c } = await setup({ mode: 'synchronous' });
    rta.failNext(1, 400, 'The AuthenticationKey field is required.');

    const report = await c.sendStates(agents(1));

    expect(report.rejected[0]).toBeInstanceOf(RejectedBatchError);
    expect(report.rejected[0]?.serverMessage).toBe('The AuthenticationKey field is required.');
  });

  it('snapshot-id: one top-level SnapshotId on each chunk, so CloseSnapshot logs out only the absent agents', async () => {
    const { rta, c } = await setup(
      { mode: 'snapshot-id' },
      { generation: 'snapshot-id', chunkSize: 2 },
    );
    await c.sendStates(agents(6));

    await c.sendSnapshot(agents(5, 'Break'));

    expect(rta.closedSnapshots).toHaveLength(1);
    expect(rta.closedSnapshots[0]?.loggedOut).toEqual(['agent.00005']);
    expect(rta.stateOf('agent.00000')?.stateCode).toBe('Break');
  });

  it('snapshot-id: a bad key answered 500 on CloseSnapshot is still the fatal bad-key error', async () => {
    const { rta, c } = await setup({ mode: 'snapshot-id' }, { generation: 'snapshot-id' });
    rta.on('batch', () => rta.setBadKey(true));

    const err = await c.sendSnapshot(agents(1)).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(InvalidAuthenticationKeyError);
    expect(err).toMatchObject({ status: 500, fatal: true, retryable: false });
    expect(rta.requests.map((r) => r.status)).toEqual([200, 500]);
  });
});

describe('bounded retries: one poll = one send of the newest states', () => {
  let rta: RtaReceiver;
  let c: TeleoptiRtaClient;

  beforeAll(async () => {
    rta = await startRtaReceiver({ authenticationKey: KEY });
    c = new TeleoptiRtaClient({
      baseUrl: rta.url,
      authenticationKey: KEY,
      sourceId: '1',
      retry: { baseMs: 20, maxMs: 50 },
    });
  });
  afterAll(async () => {
    await c.close();
    await rta.stop();
  });
  beforeEach(() => {
    rta.reset();
  });

  it('gives up after maxRetryElapsedMs with a retryable error, and the next poll delivers the newest state', async () => {
    rta.failFor(60_000);

    const err = await c
      .sendStates([st('agent.a', 'Old')], { maxRetryElapsedMs: 200 })
      .catch((e: unknown) => e);

    expect(err).toBeInstanceOf(RetriesExhaustedError);
    expect(err).toMatchObject({ retryable: true, fatal: false, limit: 'max-elapsed' });
    expect((err as RetriesExhaustedError).report?.statesSent).toBe(0);
    const attempts = rta.requests.length;
    expect(attempts).toBeGreaterThanOrEqual(1);

    rta.failFor(0);
    await c.sendStates([st('agent.a', 'New')], { maxRetryElapsedMs: 200 });

    expect(rta.historyOf('agent.a').map((h) => h.stateCode)).toEqual(['New']);
  });

  it('bounds retries while connections are refused, then delivers once the server listens again', async () => {
    await rta.refuseConnections();
    try {
      const err = await c
        .sendStates([st('agent.a', 'A')], { maxRetryElapsedMs: 150 })
        .catch((e: unknown) => e);

      expect(err).toBeInstanceOf(RetriesExhaustedError);
      expect(err).toMatchObject({ retryable: true });
    } finally {
      await rta.acceptConnections();
    }
    const report = await c.sendStates([st('agent.a', 'B')], { maxRetryElapsedMs: 150 });
    expect(report.statesSent).toBe(1);
  });

  it('an AbortSignal deadline ends the call with a retryable AbortError', async () => {
    rta.failFor(60_000);

    const err = await c
      .sendStates([st('agent.a', 'A')], { signal: AbortSignal.timeout(150) })
      .catch((e: unknown) => e);

    expect(err).toBeInstanceOf(RtaAbortedError);
    expect(err).toMatchObject({ name: 'AbortError', retryable: true });
  });

  it('a bad key is not retryable and is thrown at once, whatever the retry time', async () => {
    rta.setBadKey(true);

    const err = await c
      .sendStates([st('agent.a', 'A')], { maxRetryElapsedMs: 10_000 })
      .catch((e: unknown) => e);

    expect(err).toBeInstanceOf(InvalidAuthenticationKeyError);
    expect(err).toMatchObject({ retryable: false, fatal: true });
    // Counted on the client: a request aborted by the previous test may still reach the server.
    expect((err as InvalidAuthenticationKeyError).report?.requests).toBe(1);
  });
});
