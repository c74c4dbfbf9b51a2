/** The Prometheus metrics the daemon exposes on /metrics (prom-client). */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** Every metric of the daemon, in one registry. */
export class RtaMetrics {
  readonly registry = new Registry();
  /** Epoch ms of the last commit (0 = none yet in this process). */
  lastCommitAtMs = 0;

  readonly shardLag = new Gauge({
    name: 'rta_shard_millis_behind_latest',
    help: "Kinesis MillisBehindLatest of each shard's last GetRecords",
    labelNames: ['shard'] as const,
    registers: [this.registry],
  });
  readonly eventsRead = new Counter({
    name: 'rta_events_read_total',
    help: 'Kinesis records read (agent events, bad records included)',
    registers: [this.registry],
  });
  readonly recordsRejected = new Counter({
    name: 'rta_records_rejected_total',
    help: 'Records that are not usable agent events, by kind',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly unknownEventTypes = new Counter({
    name: 'rta_unknown_event_types_total',
    help: 'Events of an EventType Connect does not document (still applied)',
    registers: [this.registry],
  });
  readonly statesPosted = new Counter({
    name: 'rta_states_posted_total',
    help: 'States the WFM accepted, by request kind (delta, snapshot)',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly postDuration = new Histogram({
    name: 'rta_post_duration_seconds',
    help: 'Time of one delivery to the WFM (retries included), by kind and outcome',
    labelNames: ['kind', 'outcome'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
    registers: [this.registry],
  });
  readonly postRetries = new Counter({
    name: 'rta_post_retries_total',
    help: 'HTTP attempts to the WFM that were retried',
    registers: [this.registry],
  });
  readonly wfmErrors = new Counter({
    name: 'rta_wfm_errors_total',
    help: 'Failed attempts and deliveries to the WFM, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly rejectedUsers = new Counter({
    name: 'rta_rejected_users_total',
    help: 'States the WFM refused for an unknown user (set aside until the state changes)',
    registers: [this.registry],
  });
  readonly leader = new Gauge({
    name: 'rta_lease_leader',
    help: '1 while this instance holds the leader lease, 0 in standby',
    registers: [this.registry],
  });
  readonly caughtUp = new Gauge({
    name: 'rta_caught_up',
    help: '1 once the leader has read every shard to its tip in this term',
    registers: [this.registry],
  });
  readonly agents = new Gauge({
    name: 'rta_agents',
    help: 'Agents known to the collapser',
    registers: [this.registry],
  });
  readonly pendingStates = new Gauge({
    name: 'rta_pending_states',
    help: 'Agents whose newest state the WFM has not accepted yet (at the last poll)',
    registers: [this.registry],
  });
  readonly commits = new Counter({
    name: 'rta_commits_total',
    help: 'Atomic writes of the collapser state with the shard checkpoints',
    registers: [this.registry],
  });

  constructor() {
    const self = this;
    new Gauge({
      name: 'rta_checkpoint_age_seconds',
      help: 'Seconds since the last commit of this process (-1 before the first)',
      registers: [this.registry],
      collect() {
        this.set(self.lastCommitAtMs === 0 ? -1 : (Date.now() - self.lastCommitAtMs) / 1000);
      },
    });
    collectDefaultMetrics({ register: this.registry, prefix: 'rta_' });
  }
}
