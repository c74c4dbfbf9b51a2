/**
 * `npm run demo [-- --agents N --speed X --duration 5m --chaos --seed N --port P]`.
 * Exit code 0 when the verification found no difference, 1 otherwise, 2 on bad usage.
 */
import { parseArgs } from 'node:util';
import { type DemoOptions, startDemo, type VerificationSummary } from './demo.js';

const HELP = `npm run demo -- [options]
  --agents N      agents (default 40)
  --speed X       simulated seconds per real second (default 60)
  --duration D    wall-clock run length: 90s, 5m, 1h (default: until Ctrl-C)
  --chaos         kill -9 the daemon, a WFM outage, an sshd restart and a shard split on the way
  --statistics S  interval statistics partials the Lambda writes: none, queue, agent-queue, both
                  (default none)
  --sftp S        SFTP server: auto (OpenSSH when installed, else ssh2), openssh, ssh2
                  (default: DEMO_SFTP or auto)
  --seed N        seed (default 1)
  --port P        dashboard port (default: any free port)
`;

function duration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(s|m|h)?$/.exec(text);
  if (m === null) throw new Error(`--duration: "${text}" is not like 90s, 5m, 1h`);
  return Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 's' | 'm' | 'h'];
}

const STATISTICS = ['none', 'queue', 'agent-queue', 'both'] as const;
const SFTP = ['auto', 'openssh', 'ssh2'] as const;

function oneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new Error(`${flag}: "${value}" is not one of ${allowed.join(', ')}`);
  }
  return value as T;
}

function print(summary: VerificationSummary): void {
  const lines = [
    '',
    '== verification ==',
    `WFM view vs truth: ${summary.agentsMatching}/${summary.agents} agents match`,
    ...summary.mismatched.slice(0, 10).map((m) => `  mismatch ${m}`),
    `agent events: ${summary.agentEvents}; RTA latency p50 ${summary.latencyP50Ms ?? '-'} ms, p99 ${summary.latencyP99Ms ?? '-'} ms`,
    `contacts: ${summary.contacts}; delivered in CSV rows: ${summary.contactsDelivered} (${summary.csvRows} rows for ${summary.ctrRecordsWritten} records written, updates and duplicates included; ${summary.rowCountMismatches.length === 0 ? 'each delivered exactly once' : `${summary.rowCountMismatches.length} contacts off: ${summary.rowCountMismatches.slice(0, 3).join('; ')}`})`,
    `files delivered over SFTP: ${summary.files} (${summary.reportFiles} agent performance reports)`,
    ...(summary.statistics === null
      ? []
      : [
          `interval statistics: ${summary.statistics.partialFiles} partial files added up; ${summary.statistics.queueRows} queue rows and ${summary.statistics.agentQueueRows} agent-queue rows checked against the truth, ${summary.statistics.mismatches.length} differ`,
          ...summary.statistics.mismatches.slice(0, 10).map((m) => `  statistics ${m}`),
        ]),
    `objects with injected malformed records: ${summary.injectedMalformedObjects}; quarantined objects: ${summary.quarantinedObjects}`,
    ...summary.notes.map((n) => `note: ${n}`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function main(): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  let options: DemoOptions;
  try {
    values = parseArgs({
      strict: true,
      options: {
        agents: { type: 'string' },
        speed: { type: 'string' },
        duration: { type: 'string' },
        chaos: { type: 'boolean' },
        seed: { type: 'string' },
        statistics: { type: 'string' },
        sftp: { type: 'string' },
        port: { type: 'string' },
        help: { type: 'boolean' },
      },
    }).values;
    if (values.help) {
      process.stdout.write(HELP);
      return 0;
    }
    options = {
      agents: values.agents === undefined ? 40 : Number(values.agents),
      speed: values.speed === undefined ? 60 : Number(values.speed),
      ...(typeof values.duration === 'string' ? { durationMs: duration(values.duration) } : {}),
      chaos: values.chaos === true,
      ...(typeof values.statistics === 'string'
        ? { statistics: oneOf('--statistics', values.statistics, STATISTICS) }
        : {}),
      ...(typeof values.sftp === 'string' ? { sftp: oneOf('--sftp', values.sftp, SFTP) } : {}),
      seed: values.seed === undefined ? 1 : Number(values.seed),
      port: values.port === undefined ? 0 : Number(values.port),
      log: (line) => process.stdout.write(`${line}\n`),
    };
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${HELP}`);
    return 2;
  }
  const demo = await startDemo(options);
  process.stdout.write(`\n  Dashboard: ${demo.url}\n  Ctrl-C stops and verifies.\n\n`);
  const onSignal = () => {
    process.stdout.write('\nCtrl-C: stopping…\n');
    void demo.stop();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const summary = await demo.done;
  print(summary);
  const statisticsOk = summary.statistics === null || summary.statistics.mismatches.length === 0;
  return summary.mismatched.length === 0 && statisticsOk ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
    setTimeout(() => process.exit(code), 3000).unref();
  },
  (err: unknown) => {
    process.stderr.write(
      `demo failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  },
);
