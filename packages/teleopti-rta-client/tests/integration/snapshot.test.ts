import {
  RTA_SNAPSHOT_LOGGED_OUT_STATE,
  type RtaReceiver,
  startRtaReceiver,
} from '@connect-wfm/testkit';
import {
  InvalidSendOptionsError,
  RejectedBatchError,
  RtaHttpError,
  TeleoptiRtaClient,
  type TeleoptiRtaClientOptions,
} from '../../src/index.js';
import { agents, FAST_RETRY } from '../helpers.js';

const KEY = 'snapshot-test-key';

describe('sendSnapshot (current API)', () => {
  let rta: RtaReceiver;
  let client: TeleoptiRtaClient;

  beforeAll(async () => {
    rta = await startRtaReceiver({ authenticationKey: KEY });
    client = new TeleoptiRtaClient({
      baseUrl: rta.url,
      authenticationKey: KEY,
      sourceId: '1',
      chunkSize: 100,
      retry: FAST_RETRY,
    });
  });
  afterAll(async () => {
    await client.close();
    await rta.stop();
  });
  beforeEach(() => {
    rta.reset();
  });

  it('sends a snapshot as exactly one request whatever chunkSize says, and the server logs out absent agents', async () => {
    await client.sendStates(agents(300, 'Available'));
    const snapshot = agents(250, 'OnContact');

    const report = await client.sendSnapshot(snapshot);

    const last = rta.batches.at(-1);
    expect(report).toMatchObject({ requests: 1, acceptedRequests: 1, statesSent: 250 });
    expect(last?.isSnapshot).toBe(true);
    expect(last?.states).toHaveLength(250);
    expect(last?.loggedOut).toHaveLength(50);
    expect(rta.stateOf('agent.00249')?.stateCode).toBe('OnContact');
    expect(rta.stateOf('agent.00250')).toMatchObject({
      stateCode: RTA_SNAPSHOT_LOGGED_OUT_STATE,
      loggedOutBySnapshot: true,
    });
    expect(client.counters().snapshots).toBeGreaterThanOrEqual(1);
  });

  it('retries a flooded snapshot as the same single request', async () => {
    rta.flood(2);

    const report = await client.sendSnapshot(agents(500));

    expect(report).toMatchObject({ requests: 3, retries: 2, acceptedRequests: 1 });
    expect(rta.batches).toHaveLength(1);
    expect(rta.batches[0]?.states).toHaveLength(500);
  });

  it('sets aside a user the server has no person for and sends the snapshot again without it', async () => {
    rta.failNext(1, 400, 'No person found for UserCode agent.00001, DataSourceId 1, SourceId 1');

    const report = await client.sendSnapshot(agents(3));

    expect(report.rejectedUsers).toEqual(['agent.00001']);
    expect(rta.batches).toHaveLength(1);
    expect(rta.batches[0]?.isSnapshot).toBe(true);
    expect(rta.batches[0]?.states.map((s) => s.userCode)).toEqual(['agent.00000', 'agent.00002']);
  });

  it('throws RejectedBatchError when the snapshot is rejected with a 400 that names none of its users', async () => {
    rta.failNext(1, 400, 'No person found for UserCode someone.else, DataSourceId 1, SourceId 1');

    const err = await client.sendSnapshot(agents(2)).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(RejectedBatchError);
    expect((err as RejectedBatchError).userCodes).toEqual(['agent.00000', 'agent.00001']);
    expect(rta.batches).toHaveLength(0);
  });
});

describe('snapshot-id generation (legacy: true)', () => {
  let rta: RtaReceiver;
  const clients: TeleoptiRtaClient[] = [];

  function legacyClient(extra: Partial<TeleoptiRtaClientOptions> = {}): TeleoptiRtaClient {
    const c = new TeleoptiRtaClient({
      baseUrl: rta.url,
      authenticationKey: KEY,
      sourceId: '1',
      legacy: true,
      retry: FAST_RETRY,
      ...extra,
    });
    clients.push(c);
    return c;
  }

  beforeAll(async () => {
    rta = await startRtaReceiver({ authenticationKey: KEY, legacy: true });
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await rta.stop();
  });
  beforeEach(() => {
    rta.reset();
  });

  it('has no 50-state limit (that belongs to the array generation): chunkSize governs', async () => {
    const report = await legacyClient({ chunkSize: 1000 }).sendStates(agents(120));

    expect(rta.batches.map((b) => b.states.length)).toEqual([120]);
    expect(report.statesSent).toBe(120);
  });

  it('sends a snapshot in chunks with one top-level SnapshotId, closes it last (204), and absent agents are logged out', async () => {
    const c = legacyClient({ chunkSize: 50 });
    await c.sendStates(agents(130, 'Available'));
    const snapshot = agents(110, 'Break');

    const report = await c.sendSnapshot(snapshot, { snapshotId: '2024-05-01T08:00:00.000Z' });

    const snapshotBatches = rta.batches.slice(3);
    expect(snapshotBatches.map((b) => b.states.length)).toEqual([50, 50, 10]);
    expect(
      snapshotBatches.every((b) =>
        b.states.every((s) => s.snapshotId === '2024-05-01T08:00:00.000Z'),
      ),
    ).toBe(true);
    const snapshotRequests = rta.requests.slice(3).map((r) => r.path);
    expect(snapshotRequests).toEqual([
      '/Rta/State/Batch',
      '/Rta/State/Batch',
      '/Rta/State/Batch',
      '/Rta/State/CloseSnapshot',
    ]);
    expect(rta.closedSnapshots).toHaveLength(1);
    expect(rta.closedSnapshots[0]?.loggedOut).toHaveLength(20);
    expect(rta.stateOf('agent.00109')?.stateCode).toBe('Break');
    expect(rta.stateOf('agent.00110')?.stateCode).toBe(RTA_SNAPSHOT_LOGGED_OUT_STATE);
    expect(report).toMatchObject({ requests: 4, acceptedRequests: 4, statesSent: 110 });
  });

  it('uses the current time as SnapshotId by default', async () => {
    const before = Date.now();

    await legacyClient().sendSnapshot(agents(1));

    const id = rta.closedSnapshots[0]?.snapshotId ?? '';
    expect(Date.parse(id)).toBeGreaterThanOrEqual(before - 1000);
    expect(rta.batches[0]?.states[0]?.snapshotId).toBe(id);
  });

  it('retries a flooded chunk and closes only after every chunk was accepted', async () => {
    rta.flood(2);

    await legacyClient({ chunkSize: 50 }).sendSnapshot(agents(60));

    expect(rta.requests.map((r) => `${r.path}:${r.status}`)).toEqual([
      '/Rta/State/Batch:500',
      '/Rta/State/Batch:500',
      '/Rta/State/Batch:200',
      '/Rta/State/Batch:200',
      '/Rta/State/CloseSnapshot:204',
    ]);
  });

  it('never closes a snapshot when a chunk is rejected with a 400 that names no user of it', async () => {
    const c = legacyClient();
    rta.failNext(1, 400, 'No person found for UserCode someone.else, DataSourceId 1, SourceId 1');

    const err = await c.sendSnapshot(agents(60)).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(RejectedBatchError);
    expect((err as RejectedBatchError).resentWithout).toBe(false);
    expect(rta.closedSnapshots).toHaveLength(0);
    expect(rta.requests.map((r) => r.status)).toEqual([400]);
  });

  it('rejects a snapshotId that is not a date-time before anything is sent', async () => {
    const c = legacyClient();

    for (const snapshotId of ['', '   ', 'snap-1']) {
      const err = await c.sendSnapshot(agents(120), { snapshotId }).catch((e: unknown) => e);

      expect(err).toBeInstanceOf(InvalidSendOptionsError);
      expect(err).toMatchObject({ code: 'INVALID_SEND_OPTIONS', fatal: false });
      expect((err as Error).message).toContain('snapshotId');
    }
    expect(rta.requests).toHaveLength(0);
  });

  it('leaves out a user the server has no person for, reports it, and still closes the snapshot', async () => {
    const known = agents(121).map((s) => s.userCode);
    const strict = await startRtaReceiver({
      authenticationKey: KEY,
      legacy: true,
      knownUsers: known,
      rejectUnknownUsers: true,
    });
    const c = new TeleoptiRtaClient({
      baseUrl: strict.url,
      authenticationKey: KEY,
      sourceId: '1',
      legacy: true,
      chunkSize: 50,
      retry: FAST_RETRY,
    });
    clients.push(c);
    try {
      await c.sendStates(agents(121, 'Available'));
      const snapshot = [
        ...agents(120, 'Break'),
        { userCode: 'agent.newhire', stateCode: 'Break', stateDescription: 'Break' },
      ].sort((a, b) => (a.userCode < b.userCode ? -1 : 1));

      const report = await c.sendSnapshot(snapshot, { snapshotId: '2024-05-01T08:00:00Z' });

      expect(report.rejected).toHaveLength(1);
      expect(report.rejected[0]).toMatchObject({
        resentWithout: true,
        userCodes: ['agent.newhire'],
        serverMessage: 'No person found for UserCode agent.newhire, DataSourceId 1, SourceId 1',
      });
      expect(report.rejectedUsers).toEqual(['agent.newhire']);
      expect(report.statesSent).toBe(120);
      expect(strict.stateOf('agent.newhire')).toBeUndefined();
      expect(strict.closedSnapshots).toHaveLength(1);
      expect(strict.closedSnapshots[0]?.loggedOut).toEqual(['agent.00120']);
      expect(strict.stateOf('agent.00119')?.stateCode).toBe('Break');
      expect(c.counters()).toMatchObject({ rejectedBatches: 1, rejectedStates: 1, snapshots: 1 });
    } finally {
      await strict.stop();
    }
  });

  it('leaves each named user out at most once per chunk, and skips a chunk left empty', async () => {
    const strict = await startRtaReceiver({
      authenticationKey: KEY,
      legacy: true,
      knownUsers: agents(2).map((s) => s.userCode),
      rejectUnknownUsers: true,
    });
    const c = new TeleoptiRtaClient({
      baseUrl: strict.url,
      authenticationKey: KEY,
      sourceId: '1',
      legacy: true,
      chunkSize: 3,
      retry: FAST_RETRY,
    });
    clients.push(c);
    try {
      // Chunks: [agent.00000, ghost.1, agent.00001] and [ghost.2, ghost.3].
      const snapshot = [
        ...agents(1),
        { userCode: 'ghost.1', stateCode: 'A', stateDescription: 'A' },
        ...agents(2).slice(1),
        { userCode: 'ghost.2', stateCode: 'A', stateDescription: 'A' },
        { userCode: 'ghost.3', stateCode: 'A', stateDescription: 'A' },
      ];

      const report = await c.sendSnapshot(snapshot);

      expect(report.rejected.map((r) => r.userCodes)).toEqual([
        ['ghost.1'],
        ['ghost.2'],
        ['ghost.3'],
      ]);
      expect(strict.requests.map((r) => `${r.stateCount}:${r.status}`)).toEqual([
        '3:400',
        '2:200',
        '2:400',
        '1:400',
        '0:204',
      ]);
      expect(strict.closedSnapshots).toHaveLength(1);

      // A server that names a user already left out: the chunk is given up, as before.
      strict.reset();
      strict.failNext(
        2,
        400,
        'No person found for UserCode agent.00001, DataSourceId 1, SourceId 1',
      );
      const err = await c.sendSnapshot(agents(2)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RejectedBatchError);
      expect((err as RejectedBatchError).userCodes).toEqual(['agent.00000']);
      expect(strict.requests.map((r) => r.status)).toEqual([400, 400]);
      expect(strict.closedSnapshots).toHaveLength(0);
    } finally {
      await strict.stop();
    }
  });

  it('fails clearly (fatal 404) when legacy mode is used against a current server', async () => {
    const current = await startRtaReceiver({ authenticationKey: KEY });
    const c = new TeleoptiRtaClient({
      baseUrl: current.url,
      authenticationKey: KEY,
      sourceId: '1',
      legacy: true,
    });
    clients.push(c);
    try {
      const err = await c.sendSnapshot(agents(1)).catch((e: unknown) => e);

      expect(err).toBeInstanceOf(RtaHttpError);
      expect(err).toMatchObject({ status: 404, fatal: true });
      expect(current.batches[0]?.isSnapshot).toBe(false);
    } finally {
      await current.stop();
    }
  });
});
