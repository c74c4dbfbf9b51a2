/**
 * The RTA feed: leader lease → read every shard to the tip → one snapshot (cold start) or the
 * pending delta (warm start) → every poll, the changed agents → commit state + checkpoints in one
 * write every checkpoint interval, after a snapshot and at shutdown. Wiring only: the rules live
 * in @connect-wfm/rta-delta-collapser (docs/rta-state-rules.md#delivery-and-commit).
 */
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import {
  type CheckpointStore,
  type Lease,
  LeaseHeldError,
  LeaseLostError,
} from '@connect-wfm/checkpoint-store';
import {
  CheckpointFailedError,
  KinesisShardReader,
  type KinesisShardReaderOptions,
} from '@connect-wfm/kinesis-shard-reader';
import {
  type IngestResult,
  type RtaDelivery,
  RtaDeltaCollapser,
  type ShardBatchLike,
} from '@connect-wfm/rta-delta-collapser';
import {
  type RtaSendReport,
  type TeleoptiRtaClient,
  TeleoptiRtaError,
} from '@connect-wfm/teleopti-rta-client';
import type { RtaServiceConfig } from './config.js';
import type { Readiness } from './http.js';
import { errorInfo, libraryLogger, type PinoLogger } from './log.js';
import type { RtaMetrics } from './metrics.js';

/** A WFM answer that retrying cannot fix (bad key, unknown source): the daemon stops. */
export class WfmConfigurationError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WfmConfigurationError';
  }
}

type Role = Readiness['role'];

class Deposed extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'Deposed';
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** True when `err` (or a cause) says the lease was taken over. */
function isLeaseLost(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; depth += 1) {
    if (e instanceof LeaseLostError || e.name === 'LeaseLostError') return true;
    e = e.cause;
  }
  return false;
}

/** Users the WFM set aside in a send (unknown users; the rest was delivered). */
function rejectedUsersOf(report: RtaSendReport): readonly string[] {
  return report.rejectedUsers;
}

/** The daemon. `run()` resolves with the process exit code. */
export class RtaDaemon {
  readonly #config: RtaServiceConfig;
  readonly #log: PinoLogger;
  readonly #metrics: RtaMetrics;
  readonly #stop = new AbortController();
  #role: Role = 'starting';
  #caughtUp = false;
  #firstDelivery = false;

  constructor(config: RtaServiceConfig, log: PinoLogger, metrics: RtaMetrics) {
    this.#config = config;
    this.#log = log;
    this.#metrics = metrics;
  }

  /** For /readyz: ready = standby, or leader that read to the tip and delivered once. */
  readiness(): Readiness {
    const role = this.#role;
    if (role === 'standby') return { ready: true, role, detail: 'standby: another instance leads' };
    if (role === 'leader') {
      const ready = this.#caughtUp && this.#firstDelivery;
      return {
        ready,
        role,
        detail: ready ? 'leader, caught up' : 'leader, reading up to the tip before posting',
      };
    }
    return { ready: false, role, detail: role === 'starting' ? 'starting' : 'draining' };
  }

  /** Asks the daemon to drain and stop (SIGTERM/SIGINT). */
  stop(reason: string): void {
    if (this.#stop.signal.aborted) return;
    this.#log.info({ reason }, 'stopping: draining, committing and releasing the lease');
    this.#role = 'stopping';
    this.#stop.abort();
  }

  /** Runs until stopped (0), a WFM configuration error (78) or another fatal error (1). */
  async run(
    store: CheckpointStore,
    kinesis: KinesisClient,
    wfm: TeleoptiRtaClient,
  ): Promise<number> {
    const config = this.#config;
    try {
      while (!this.#stop.signal.aborted) {
        const lease = await this.#acquire(store);
        if (lease === undefined) break;
        await this.#lead(store, kinesis, wfm, lease);
      }
      return 0;
    } catch (err) {
      if (err instanceof WfmConfigurationError) {
        this.#log.fatal(
          errorInfo(err),
          'the WFM refuses the configuration; stopping (fix RTA_AUTH_KEY / RTA_SOURCE_ID / the WFM set-up, then start again)',
        );
        return 78;
      }
      this.#log.fatal(errorInfo(err), 'fatal error; stopping');
      return 1;
    } finally {
      this.#metrics.leader.set(0);
      try {
        await store.releaseLease();
      } catch (err) {
        this.#log.warn(errorInfo(err), 'could not release the lease (it expires by itself)');
      }
      this.#log.debug({ instance: config.instanceId }, 'lease released');
    }
  }

  /** Waits in standby until the lease is ours (or the daemon stops: undefined). */
  async #acquire(store: CheckpointStore): Promise<Lease | undefined> {
    const { instanceId, leaseTtlMs } = this.#config;
    const retryMs = Math.max(100, Math.min(1000, Math.floor(leaseTtlMs / 10)));
    let announced = false;
    while (!this.#stop.signal.aborted) {
      try {
        const lease = await store.acquireLease({ owner: instanceId, ttlMs: leaseTtlMs });
        this.#log.info(
          { instance: instanceId, token: lease.token, ttlMs: leaseTtlMs },
          'leader lease acquired: this instance leads',
        );
        return lease;
      } catch (err) {
        if (err instanceof LeaseHeldError || (err as Error).name === 'LeaseHeldError') {
          if (!announced) {
            this.#log.info(
              { instance: instanceId, error: (err as Error).message },
              'standby: another instance holds the leader lease',
            );
            announced = true;
          }
          this.#role = 'standby';
        } else {
          this.#log.warn(errorInfo(err), 'cannot reach the checkpoint store to take the lease');
        }
      }
      await sleep(retryMs, this.#stop.signal);
    }
    return undefined;
  }

  /** One term as leader; returns when deposed or stopped, throws on fatal errors. */
  async #lead(
    store: CheckpointStore,
    kinesis: KinesisClient,
    wfm: TeleoptiRtaClient,
    lease: Lease,
  ): Promise<void> {
    const config = this.#config;
    const log = this.#log;
    const metrics = this.#metrics;
    const term = new AbortController();
    this.#role = 'leader';
    this.#caughtUp = false;
    this.#firstDelivery = false;
    metrics.leader.set(1);
    metrics.caughtUp.set(0);

    // Fencing: the lease counts only until `validUntil` (local clock, from when the renewal was
    // sent, minus a margin). Past it, nothing more is posted; the store refuses our commits.
    const margin = Math.max(50, Math.floor(config.leaseTtlMs / 10));
    let validUntil = Date.now() + config.leaseTtlMs - margin;
    log.debug({ token: lease.token }, 'term started');
    let deposedReason: string | undefined;
    const depose = (reason: string) => {
      if (deposedReason !== undefined || this.#stop.signal.aborted) return;
      deposedReason = reason;
      log.warn({ reason }, 'leader lease lost: stopped posting, back to standby');
      term.abort(new Deposed(reason));
    };
    const leaseValid = () => deposedReason === undefined && Date.now() < validUntil;
    const renewEvery = Math.max(50, Math.floor(config.leaseTtlMs / 3));
    let renewing = false;
    // A lapse on our own clock (a starved or paused process) only pauses posting and commits
    // (`leaseValid()` is false); the term, with everything read so far, goes on. Only the store
    // ends it: a renewal or a commit refused with LeaseLostError means another instance took the
    // lease. A renewal that succeeds after a lapse proves nobody did (it is fenced by owner and
    // token), so posting resumes. Ending the term on a lapse threw the reading away, and a starved
    // process that could not read to the tip within one TTL restarted from the same checkpoints
    // for ever (docs/rta-state-rules.md#high-availability).
    let lapsed = false;
    const renewTimer = setInterval(() => {
      if (!lapsed && Date.now() >= validUntil && deposedReason === undefined) {
        lapsed = true;
        log.warn(
          { ttlMs: config.leaseTtlMs },
          'leader lease not renewed in time: posting paused until the store confirms it is still ours',
        );
      }
      if (renewing || term.signal.aborted) return;
      renewing = true;
      const sentAt = Date.now();
      store.renewLease().then(
        () => {
          renewing = false;
          validUntil = sentAt + config.leaseTtlMs - margin;
          if (lapsed && Date.now() < validUntil) {
            lapsed = false;
            log.info('leader lease renewed after a lapse: still ours, posting resumes');
          }
        },
        (err: unknown) => {
          renewing = false;
          if (isLeaseLost(err)) depose('another instance took the lease');
          else log.warn(errorInfo(err), 'lease renewal failed; retrying');
        },
      );
    }, renewEvery);
    const onStop = () => term.abort(new Error('stopping'));
    this.#stop.signal.addEventListener('abort', onStop, { once: true });

    const collapser = new RtaDeltaCollapser({
      mode: config.stateMode,
      includeChannel: config.includeChannel,
      loggedOut: { stateCode: config.loggedOutStateCode },
      logger: libraryLogger(log, 'collapser'),
    });
    let reader: KinesisShardReader | undefined;
    let consuming: Promise<void> | undefined;
    try {
      const saved = await store.getState();
      let needSnapshot = saved === undefined;
      if (saved !== undefined) {
        collapser.importState(saved.state);
        log.info(
          { agents: collapser.agentCount, committedAt: saved.writtenAt.toISOString() },
          'warm start: resuming from the committed state and checkpoints',
        );
      } else {
        log.info(
          { windowHours: config.coldStartWindowHours },
          'cold start: no committed state; reading the window, then one snapshot',
        );
      }
      const readerOptions: KinesisShardReaderOptions = {
        client: kinesis,
        stream: config.stream,
        checkpointStore: store,
        initialPosition: {
          type: 'AT_TIMESTAMP',
          timestamp: new Date(Date.now() - config.coldStartWindowHours * 3_600_000),
        },
        // Read each shard at least every second, so that a record waits at most ~1 s to be read
        // plus one poll to be sent (p99 latency ≈ poll + 1 s).
        idleIntervalMs: Math.max(200, Math.min(1000, config.pollMs)),
        // At most 1,000 records (~1.3 MB) per GetRecords instead of the reader's 10,000, and a
        // budget for all shards together: each shard holds one batch until the daemon takes it,
        // so without it the read-ahead grows with the shard count; with the budget (10,000 by
        // default) 20 shards ask for 500 each. Five calls a second per shard (the Kinesis limit
        // the reader keeps) at 500 records still read more than a shard's 2 MB/s
        // (DESIGN.md#memory).
        maxRecords: 1000,
        maxRecordsInFlight: config.readBudgetRecords,
        shardDiscoveryIntervalMs: Math.max(1000, Math.min(60_000, config.pollMs * 6)),
        childShardStart: 'parent-delivered',
        logger: libraryLogger(log, 'reader'),
        signal: term.signal,
      };
      reader = new KinesisShardReader(readerOptions);
      const r = reader;
      r.on('lag', (e) => metrics.shardLag.set({ shard: e.shardId }, e.millisBehindLatest));
      r.on('checkpointExpired', (e) => {
        log.error(
          { shardId: e.shardId, sequenceNumber: e.sequenceNumber },
          'a checkpoint is past the stream retention: events were lost; a full snapshot follows',
        );
        needSnapshot = true;
      });
      r.on('shardEnded', (e) =>
        log.info({ shardId: e.shardId, children: e.childShardIds }, 'shard ended (resharding)'),
      );
      const caughtUp = new Promise<void>((resolve) => {
        if (r.caughtUp) resolve();
        else r.once('caughtUp', () => resolve());
      });
      consuming = (async () => {
        for await (const batch of r) this.#ingest(collapser, batch);
      })();
      const consumeFailed = consuming.then(
        () => undefined,
        (err: unknown) => err,
      );

      // Read to the tip before the first post (warm and cold start alike).
      const first = await Promise.race([
        caughtUp.then(() => 'caughtUp' as const),
        consumeFailed.then((err) => ({ err })),
        new Promise<'aborted'>((resolve) => {
          if (term.signal.aborted) resolve('aborted');
          term.signal.addEventListener('abort', () => resolve('aborted'), { once: true });
        }),
      ]);
      if (typeof first === 'object') {
        if (first.err !== undefined) throw first.err;
        return;
      }
      if (first === 'aborted') return;
      this.#caughtUp = true;
      metrics.caughtUp.set(1);
      log.info(
        { agents: collapser.agentCount, eventsRead: r.metrics().recordsRead },
        'read every shard to the tip',
      );

      let lastCommit = Date.now();
      let lastSnapshot = 0;
      const commit = async (delivery: RtaDelivery): Promise<void> => {
        if (delivery.state === undefined) return;
        if (!leaseValid()) return;
        const positions = delivery.positions.filter(
          (p) => p.lastSequenceNumber !== null || p.shardEnded,
        );
        try {
          await r.checkpoint(positions, { state: delivery.state });
          lastCommit = Date.now();
          metrics.lastCommitAtMs = lastCommit;
          metrics.commits.inc();
          log.info(
            {
              delivery: delivery.id,
              shards: positions.length,
              agents: delivery.state.agents.length,
            },
            'committed state and checkpoints',
          );
        } catch (err) {
          if (isLeaseLost(err)) depose('the store refused our commit: the lease was taken over');
          else if (err instanceof CheckpointFailedError || err instanceof Error) {
            log.error(errorInfo(err), 'commit failed; retried at the next poll');
          }
        }
      };

      // Snapshot (cold start, or events lost) or the pending delta, then every poll.
      let nextPoll = Date.now();
      while (!term.signal.aborted) {
        const now = Date.now();
        nextPoll = Math.max(nextPoll + config.pollMs, now);
        const periodic =
          config.fullSnapshotIntervalMs > 0 &&
          lastSnapshot > 0 &&
          now - lastSnapshot >= config.fullSnapshotIntervalMs;
        const snapshot = needSnapshot || periodic;
        const commitDue = snapshot || now - lastCommit >= config.checkpointIntervalMs;
        const delivery = await this.#deliver(collapser, wfm, term.signal, leaseValid, {
          snapshot,
          commit: commitDue,
        });
        if (delivery !== undefined) {
          if (snapshot) {
            needSnapshot = false;
            lastSnapshot = Date.now();
          }
          if (!this.#firstDelivery) {
            this.#firstDelivery = true;
            log.info('ready: first delivery accepted; polling');
          }
          await commit(delivery);
        }
        // Fixed rate: a slow POST does not push every later poll back.
        await sleep(Math.max(0, nextPoll - Date.now()), term.signal);
      }

      // Leaving the term: on a stop (not when deposed) drain what was read, post it, commit.
      if (deposedReason === undefined && this.#stop.signal.aborted) {
        await r.stop();
        await consuming.catch(() => undefined);
        const drain = new AbortController();
        const timer = setTimeout(() => drain.abort(), Math.max(100, config.shutdownTimeoutMs / 2));
        try {
          const delivery = await this.#deliver(collapser, wfm, drain.signal, leaseValid, {
            snapshot: needSnapshot,
            commit: true,
          });
          if (delivery !== undefined) await commit(delivery);
          else log.warn('the final delivery did not complete; the next start reads it again');
        } finally {
          clearTimeout(timer);
        }
      }
    } finally {
      clearInterval(renewTimer);
      this.#stop.signal.removeEventListener('abort', onStop);
      if (!term.signal.aborted) term.abort(new Error('term ended'));
      if (reader !== undefined) await reader.stop().catch(() => undefined);
      if (consuming !== undefined) await consuming.catch(() => undefined);
      metrics.leader.set(0);
      metrics.caughtUp.set(0);
      this.#caughtUp = false;
      if (!this.#stop.signal.aborted) this.#role = 'standby';
    }
  }

  #ingest(collapser: RtaDeltaCollapser, batch: ShardBatchLike): void {
    const result: IngestResult = collapser.ingestShardBatch(batch);
    const metrics = this.#metrics;
    metrics.eventsRead.inc(batch.records.length);
    for (const rejection of result.rejected) metrics.recordsRejected.inc({ kind: rejection.kind });
    if (result.unknownEventTypes.length > 0) {
      metrics.unknownEventTypes.inc(result.unknownEventTypes.length);
    }
    metrics.agents.set(collapser.agentCount);
  }

  /**
   * One delivery: take states (and the state to commit) at one instant, post them with a
   * deadline, mark them accepted on 200. Returns the completed delivery, or undefined when it was
   * not accepted (nothing marked: the next poll re-collapses and sends the newest states).
   */
  async #deliver(
    collapser: RtaDeltaCollapser,
    wfm: TeleoptiRtaClient,
    signal: AbortSignal,
    leaseValid: () => boolean,
    what: { snapshot: boolean; commit: boolean },
  ): Promise<RtaDelivery | undefined> {
    const log = this.#log;
    const metrics = this.#metrics;
    if (!leaseValid() || signal.aborted) return undefined;
    const delivery = collapser.beginDelivery({ snapshot: what.snapshot, exportState: what.commit });
    const kind = delivery.kind;
    metrics.pendingStates.set(kind === 'delta' ? delivery.states.length : 0);
    if (delivery.states.length === 0 && kind === 'delta') {
      collapser.completeDelivery(delivery);
      return delivery;
    }
    const started = performance.now();
    const deadline = AbortSignal.any([signal, AbortSignal.timeout(this.#config.postDeadlineMs)]);
    try {
      if (!leaseValid()) throw new Deposed('lease no longer valid');
      const report =
        kind === 'snapshot'
          ? await wfm.sendSnapshot(delivery.states, { signal: deadline })
          : await wfm.sendStates(delivery.states, { signal: deadline });
      const seconds = (performance.now() - started) / 1000;
      collapser.completeDelivery(delivery);
      const rejectedUsers = rejectedUsersOf(report);
      const accepted = delivery.states.length - rejectedUsers.length;
      metrics.statesPosted.inc({ kind }, accepted);
      metrics.postDuration.observe({ kind, outcome: 'accepted' }, seconds);
      if (rejectedUsers.length > 0) {
        metrics.rejectedUsers.inc(rejectedUsers.length);
        log.warn(
          { delivery: delivery.id, users: rejectedUsers.slice(0, 50), count: rejectedUsers.length },
          'the WFM has no person for these user codes: their states are set aside until they change (add the external logon in Teleopti)',
        );
      }
      log.info(
        {
          delivery: delivery.id,
          kind,
          states: delivery.states.length,
          rejectedUsers: rejectedUsers.length,
          retries: report.retries,
          ms: Math.round(seconds * 1000),
        },
        kind === 'snapshot' ? 'snapshot accepted by the WFM' : 'states accepted by the WFM',
      );
      return delivery;
    } catch (err) {
      collapser.abandonDelivery(delivery);
      const seconds = (performance.now() - started) / 1000;
      metrics.postDuration.observe({ kind, outcome: 'failed' }, seconds);
      if (err instanceof TeleoptiRtaError && err.fatal) {
        metrics.wfmErrors.inc({ reason: err.code });
        throw new WfmConfigurationError(err.message, { cause: err });
      }
      const code = err instanceof TeleoptiRtaError ? err.code : (err as Error).name;
      metrics.wfmErrors.inc({ reason: code === 'ABORTED' ? 'deadline' : String(code) });
      if (!signal.aborted) {
        log.warn(
          { delivery: delivery.id, kind, states: delivery.states.length, ...errorInfo(err) },
          'the WFM did not accept the delivery; the next poll sends the newest states',
        );
      }
      return undefined;
    }
  }
}
