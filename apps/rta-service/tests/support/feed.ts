/**
 * The peers of one daemon test: kinesalite with a stream, the Teleopti receiver (current
 * generation by default), a temporary directory for the file store, and a producer that writes
 * Connect-shaped agent events and keeps the expected final state and each agent's timeline.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type KinesaliteServer,
  type RtaReceiver,
  type RtaReceiverOptions,
  startKinesalite,
  startRtaReceiver,
} from '@connect-wfm/testkit';
import { type DaemonProcess, ensureBundle, startDaemon } from './daemon.js';
import { type AgentEventSpec, agentEvent, partitionKey } from './events.js';

export const LOGGED_OFF = 'LOGGED-OFF';

export interface FeedOptions {
  readonly shards?: number;
  readonly receiver?: RtaReceiverOptions;
}

export interface Feed {
  readonly kinesis: KinesaliteServer;
  readonly stream: string;
  readonly receiver: RtaReceiver;
  readonly dir: string;
  /** Final state code each agent should end on at the WFM. */
  readonly expected: Map<string, string>;
  /** Each agent's state codes in event order (the order the WFM may only move forward in). */
  readonly timeline: Map<string, string[]>;
  /** Environment for the daemon (file store in `dir`, short poll, lease and commit interval). */
  env(extra?: Record<string, string>): Record<string, string>;
  /** Writes events (time-ordered per agent) and records what the WFM should end on. */
  put(events: readonly Omit<AgentEventSpec, 'timeMs'>[]): Promise<void>;
  /** Writes raw record data (malformed records). */
  putRaw(
    data: readonly string[],
    key?: string,
  ): Promise<{ shardId: string; sequenceNumber: string }[]>;
  stop(): Promise<void>;
}

export async function startFeed(options: FeedOptions = {}): Promise<Feed> {
  const kinesis = await startKinesalite();
  const stream = `agent-events-${process.pid}-${Math.floor(Math.random() * 1e6)}`;
  await kinesis.createStream(stream, options.shards ?? 2);
  const receiver = await startRtaReceiver(options.receiver ?? {});
  const dir = await mkdtemp(join(tmpdir(), 'rta-service-'));
  const expected = new Map<string, string>();
  const timeline = new Map<string, string[]>();
  let clock = Date.now() - 60_000;
  const awaitingLogin = new Set<string>();
  return {
    kinesis,
    stream,
    receiver,
    dir,
    expected,
    timeline,
    env(extra = {}) {
      return {
        RTA_STREAM: stream,
        AWS_REGION: kinesis.region,
        AWS_ACCESS_KEY_ID: kinesis.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: kinesis.credentials.secretAccessKey,
        RTA_KINESIS_ENDPOINT: kinesis.endpoint,
        RTA_WFM_URL: receiver.url,
        RTA_AUTH_KEY: receiver.authenticationKey,
        RTA_SOURCE_ID: receiver.sourceIds[0] ?? '1',
        RTA_POLL_MS: '400',
        RTA_COLD_START_WINDOW_HOURS: '1',
        RTA_CHECKPOINT_INTERVAL_MS: '1000',
        RTA_STORE: `file:${join(dir, 'state.json')}`,
        RTA_LEASE_TTL_MS: '3000',
        RTA_INSTANCE_ID: 'instance-a',
        RTA_HTTP_PORT: '0',
        RTA_LOG_LEVEL: 'info',
        RTA_POST_DEADLINE_MS: '3000',
        RTA_SHUTDOWN_TIMEOUT_MS: '15000',
        ...extra,
      };
    },
    async put(events) {
      const records = events.map((e) => {
        clock = Math.max(clock + 1, Date.now() - 30_000);
        if (e.type === 'LOGOUT') awaitingLogin.add(e.username);
        if (e.type === 'LOGIN') awaitingLogin.delete(e.username);
        const onContact = e.contacts?.some((c) => c.State === 'CONNECTED') === true;
        const code =
          awaitingLogin.has(e.username) || e.status === 'Offline'
            ? LOGGED_OFF
            : onContact
              ? 'OnContact'
              : e.status;
        expected.set(e.username, code);
        const list = timeline.get(e.username) ?? [];
        list.push(code);
        timeline.set(e.username, list);
        return {
          data: agentEvent({ ...e, timeMs: clock }),
          partitionKey: partitionKey(e.username),
        };
      });
      await kinesis.putRecords(stream, records);
    },
    async putRaw(data, key = 'malformed') {
      return kinesis.putRecords(
        stream,
        data.map((d) => ({ data: d, partitionKey: key })),
      );
    },
    async stop() {
      await receiver.stop();
      await kinesis.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Polls `check` every 100 ms until it returns true (bounded). */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`not reached within ${timeoutMs} ms: ${what}`);
}

/**
 * Agents whose applied history at the WFM ever moved back in their event timeline (snapshot
 * log-outs ignored), with the offending step.
 */
export function regressions(feed: Feed): string[] {
  const out: string[] = [];
  for (const [user, codes] of feed.timeline) {
    let last = -1;
    for (const applied of feed.receiver.historyOf(user)) {
      if (applied.loggedOutBySnapshot) continue;
      const index = codes.lastIndexOf(applied.stateCode);
      if (index < last) {
        out.push(`${user}: ${codes[last]} -> ${applied.stateCode}`);
      }
      last = Math.max(last, index);
    }
  }
  return out;
}

/**
 * Stops `daemon` with SIGTERM (exit 0 expected), then checks the WFM's final view equals the
 * expected states and no agent's applied history moved back.
 */
export async function stopAndExpectDelivered(feed: Feed, daemon: DaemonProcess): Promise<void> {
  expect((await daemon.stop()).code).toBe(0);
  expect(Object.fromEntries(feed.receiver.finalView())).toEqual(Object.fromEntries(feed.expected));
  expect(regressions(feed)).toEqual([]);
}

/** `S0001`, `S0002`, ...: unique, ordered state codes for timelines. */
export function statusSequence(prefix: string): () => string {
  let step = 0;
  return () => {
    step += 1;
    return `${prefix}${String(step).padStart(4, '0')}`;
  };
}

/** What {@link useFeed} gives a test file: the peers, and the daemons it started. */
export interface FeedFixture {
  readonly feed: Feed;
  /** Every daemon started with `start`, killed (resumed first if stopped) after the file. */
  readonly daemons: DaemonProcess[];
  /** Starts the daemon with the feed's environment plus `env`. */
  start(env: Record<string, string>, label: string): DaemonProcess;
  /** Logs `agents` in (Available) and starts the daemon; resolves once its snapshot was accepted. */
  startWithAgents(
    agents: readonly string[],
    label: string,
    env?: Record<string, string>,
  ): Promise<DaemonProcess>;
}

/**
 * The set-up every daemon test file shares: builds the bundle and starts the peers before the
 * file's tests; after them, kills every daemon it started and stops the peers.
 */
export function useFeed(options: FeedOptions = {}): FeedFixture {
  let feed: Feed | undefined;
  const daemons: DaemonProcess[] = [];
  const fixture: FeedFixture = {
    get feed(): Feed {
      if (feed === undefined) throw new Error('useFeed: the peers are not started yet');
      return feed;
    },
    daemons,
    start(env, label) {
      const daemon = startDaemon(fixture.feed.env(env), label);
      daemons.push(daemon);
      return daemon;
    },
    async startWithAgents(agents, label, env = {}) {
      await fixture.feed.put(
        agents.map((username) => ({ username, type: 'LOGIN', status: 'Available' })),
      );
      const daemon = fixture.start(env, label);
      await daemon.waitForMsg('snapshot accepted by the WFM');
      return daemon;
    },
  };
  beforeAll(async () => {
    await ensureBundle();
    feed = await startFeed(options);
  }, 120_000);
  afterAll(async () => {
    for (const d of daemons) {
      d.child.kill('SIGCONT');
      await d.kill9();
    }
    await feed?.stop();
  });
  return fixture;
}
