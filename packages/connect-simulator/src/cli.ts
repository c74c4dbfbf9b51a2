#!/usr/bin/env node
/**
 * `connect-simulator`: runs the contact-center model against Kinesis and S3 (local peers or a real
 * AWS account with the default credential chain). Exit codes: 0 done; 1 a write failed; 2 usage.
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { kmsEnvelopeEncryptor } from './encryption.js';
import { defaultStart } from './model.js';
import { ConnectSimulator } from './runner.js';
import { KinesisAgentEventSink, S3ObjectSink, type SimulatorSink } from './sinks.js';
import type { FaultOptions } from './types.js';

const HELP = `connect-simulator: a seeded Amazon Connect contact center

  --agents N            agents (default 20)
  --speed X|max         simulated seconds per real second (default 60) or max
  --duration D          simulated length: 90s, 30m, 8h, 1d (default: until Ctrl-C)
  --seed N              seed (default 1)
  --start ISO|now       simulated start (default today 08:00 UTC)
  --kinesis STREAM      agent event stream name or ARN
  --s3 s3://BUCKET/PFX  where CTR objects go (prefix default ctr/)
  --report-s3 s3://B/P  where reports go (default the CTR bucket, prefix Reports/)
  --gzip                gzip CTR objects (.gz keys)
  --kms-key ID          client-side encrypt CTR objects with this KMS key
  --sqs-queue-url URL   also send S3 event notifications there
  --buffer-bytes N      Firehose size buffer (default 5242880)
  --buffer-seconds N    Firehose time buffer (default 300)
  --faults LIST         duplicate=0.01,reorder=0.01,malformed=0.001,lateUpdate=0.05
  --truth FILE          write the ground truth (JSON) there at the end
  --region R            AWS region (default: the SDK's)
  --kinesis-endpoint U, --s3-endpoint U, --sqs-endpoint U, --kms-endpoint U   local endpoints
  --help
`;

/** Parses `90`, `90s`, `30m`, `8h`, `1d` into seconds. */
function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(s|m|h|d)?$/.exec(text.trim());
  if (m === null) throw new Error(`--duration: "${text}" is not a duration like 90s, 30m, 8h, 1d`);
  const unit = { s: 1, m: 60, h: 3600, d: 86400 }[(m[2] ?? 's') as 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}

function parseS3(
  text: string,
  option: string,
  defaultPrefix: string,
): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(text);
  if (m === null) throw new Error(`${option}: "${text}" is not s3://bucket/prefix`);
  const prefix = m[2] === '' ? defaultPrefix : (m[2] as string);
  return { bucket: m[1] as string, prefix: prefix.endsWith('/') ? prefix : `${prefix}/` };
}

function parseFaults(text: string): FaultOptions {
  const faults: Record<string, number> = {};
  for (const part of text.split(',').filter((p) => p !== '')) {
    const [name, value] = part.split('=');
    if (!name || !['duplicate', 'reorder', 'malformed', 'lateUpdate'].includes(name)) {
      throw new Error(`--faults: unknown fault "${name}"`);
    }
    const rate = Number(value);
    if (!(rate >= 0 && rate <= 1)) throw new Error(`--faults: ${name} needs a rate from 0 to 1`);
    faults[name] = rate;
  }
  return faults;
}

async function main(argv: string[]): Promise<number> {
  let values: ReturnType<typeof parse>['values'];
  function parse(args: string[]) {
    return parseArgs({
      args,
      strict: true,
      options: {
        agents: { type: 'string' },
        speed: { type: 'string' },
        duration: { type: 'string' },
        seed: { type: 'string' },
        start: { type: 'string' },
        kinesis: { type: 'string' },
        s3: { type: 'string' },
        'report-s3': { type: 'string' },
        gzip: { type: 'boolean' },
        'kms-key': { type: 'string' },
        'sqs-queue-url': { type: 'string' },
        'buffer-bytes': { type: 'string' },
        'buffer-seconds': { type: 'string' },
        faults: { type: 'string' },
        truth: { type: 'string' },
        region: { type: 'string' },
        'kinesis-endpoint': { type: 'string' },
        's3-endpoint': { type: 'string' },
        'sqs-endpoint': { type: 'string' },
        'kms-endpoint': { type: 'string' },
        help: { type: 'boolean' },
      },
    });
  }
  let simulator: ConnectSimulator;
  try {
    values = parse(argv).values;
    if (values.help) {
      process.stdout.write(HELP);
      return 0;
    }
    if (values.kinesis === undefined && values.s3 === undefined) {
      throw new Error('give --kinesis STREAM and/or --s3 s3://bucket/prefix');
    }
    const region = values.region === undefined ? {} : { region: values.region };
    const sinks: SimulatorSink[] = [];
    if (values.kinesis !== undefined) {
      const client = new KinesisClient({
        ...region,
        // a local endpoint gets HTTP/1.1 (the Kinesis client would try HTTP/2 otherwise)
        ...(values['kinesis-endpoint']
          ? { endpoint: values['kinesis-endpoint'], requestHandler: new NodeHttpHandler() }
          : {}),
      });
      sinks.push(new KinesisAgentEventSink({ client, stream: values.kinesis }));
    }
    let firehosePrefix = 'ctr/';
    let reportPrefix = 'Reports/';
    if (values.s3 !== undefined) {
      const ctr = parseS3(values.s3, '--s3', 'ctr/');
      firehosePrefix = ctr.prefix;
      const report = values['report-s3']
        ? parseS3(values['report-s3'], '--report-s3', 'Reports/')
        : { bucket: ctr.bucket, prefix: 'Reports/' };
      reportPrefix = report.prefix;
      const s3 = new S3Client({
        ...region,
        ...(values['s3-endpoint'] ? { endpoint: values['s3-endpoint'], forcePathStyle: true } : {}),
      });
      const encryptor =
        values['kms-key'] === undefined
          ? undefined
          : kmsEnvelopeEncryptor({
              kms: new KMSClient({
                ...region,
                ...(values['kms-endpoint'] ? { endpoint: values['kms-endpoint'] } : {}),
              }),
              keyId: values['kms-key'],
            });
      const notify =
        values['sqs-queue-url'] === undefined
          ? undefined
          : {
              client: new SQSClient({
                ...region,
                ...(values['sqs-endpoint'] ? { endpoint: values['sqs-endpoint'] } : {}),
              }),
              queueUrl: values['sqs-queue-url'],
            };
      sinks.push(
        new S3ObjectSink({
          client: s3,
          bucket: ctr.bucket,
          reportBucket: report.bucket,
          ...(encryptor === undefined ? {} : { encryptor }),
          ...(notify === undefined ? {} : { notify }),
        }),
      );
    }
    const speed =
      values.speed === undefined || values.speed === 'max'
        ? (values.speed ?? 60)
        : Number(values.speed);
    simulator = new ConnectSimulator({
      agents: values.agents === undefined ? 20 : Number(values.agents),
      speed: speed === 'max' ? 'max' : Number(speed),
      ...(values.duration === undefined ? {} : { durationSeconds: parseDuration(values.duration) }),
      seed: values.seed === undefined ? 1 : Number(values.seed),
      start:
        values.start === undefined
          ? defaultStart()
          : values.start === 'now'
            ? new Date()
            : new Date(values.start),
      firehose: {
        prefix: firehosePrefix,
        gzip: values.gzip ?? false,
        ...(values['buffer-bytes'] ? { bufferBytes: Number(values['buffer-bytes']) } : {}),
        ...(values['buffer-seconds'] ? { bufferSeconds: Number(values['buffer-seconds']) } : {}),
      },
      reportPrefix,
      ...(values.faults === undefined ? {} : { faults: parseFaults(values.faults) }),
      sinks,
    });
  } catch (err) {
    process.stderr.write(`connect-simulator: ${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  let events = 0;
  let objects = 0;
  simulator.on('agentEvents', (e) => {
    events += e.length;
  });
  simulator.on('object', () => {
    objects++;
  });
  let lastPrint = 0;
  simulator.on('tick', (now) => {
    if (Date.now() - lastPrint < 5000) return;
    lastPrint = Date.now();
    process.stderr.write(
      `${new Date(now).toISOString()}  agent events ${events}  objects ${objects}\n`,
    );
  });
  try {
    const summary = await simulator.run(abort.signal);
    process.stderr.write(`${JSON.stringify(summary)}\n`);
    if (values.truth !== undefined) {
      const sim = simulator.simulation;
      await writeFile(
        values.truth,
        JSON.stringify(
          {
            summary,
            agents: sim.agentTruth(),
            contacts: sim.contactTruth(),
            intervalStats: sim.intervalStats(),
            agentPerformance: sim.agentPerformanceTruth(),
            malformedCtrs: sim.injectedMalformedCtrs(),
            malformedAgentEvents: sim.injectedMalformedAgentEvents().length,
          },
          null,
          1,
        ),
      );
    }
    return 0;
  } catch (err) {
    const cause = (err as Error).cause;
    process.stderr.write(
      `connect-simulator: ${(err as Error).message}${cause instanceof Error ? ` (${cause.name}: ${cause.message})` : ''}\n`,
    );
    return 1;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

process.exitCode = await main(process.argv.slice(2));
