import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-kinesis';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { readFirehoseRecords } from '@connect-wfm/ctr-csv-mapper';
import { openS3Object } from '@connect-wfm/s3-cse-reader';
import {
  type KinesaliteServer,
  type KmsPeer,
  type S3Peer,
  type SqsPeer,
  startKinesalite,
  startKms,
  startS3,
  startSqs,
} from '@connect-wfm/testkit';
import {
  ConnectSimulator,
  KinesisAgentEventSink,
  kmsEnvelopeEncryptor,
  S3ObjectSink,
  type WrittenAgentEvent,
} from '../../src/index.js';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..', '..', '..', '..');

async function readStream(
  kinesis: KinesaliteServer,
  stream: string,
): Promise<Map<string, string[]>> {
  const client = kinesis.client();
  const byShard = new Map<string, string[]>();
  for (const shard of await kinesis.listShards(stream)) {
    const shardId = shard.ShardId as string;
    let iterator = (
      await client.send(
        new GetShardIteratorCommand({
          StreamName: stream,
          ShardId: shardId,
          ShardIteratorType: 'TRIM_HORIZON',
        }),
      )
    ).ShardIterator;
    const seqs: string[] = [];
    for (let i = 0; i < 1000 && iterator !== undefined; i++) {
      const out = await client.send(
        new GetRecordsCommand({ ShardIterator: iterator, Limit: 10000 }),
      );
      for (const r of out.Records ?? [])
        seqs.push(`${r.PartitionKey}|${Buffer.from(r.Data ?? []).toString()}`);
      if ((out.Records ?? []).length === 0) break;
      iterator = out.NextShardIterator;
    }
    byShard.set(shardId, seqs);
  }
  return byShard;
}

async function listKeys(s3: S3Peer, bucket: string, prefix: string): Promise<string[]> {
  const out = await s3.client().send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (out.Contents ?? []).map((o) => o.Key as string).sort();
}

describe('connect-simulator against kinesalite, s3rver, SQS and KMS', () => {
  let kinesis: KinesaliteServer;
  let s3: S3Peer;
  let sqs: SqsPeer;
  let kms: KmsPeer;

  beforeAll(async () => {
    kinesis = await startKinesalite();
    sqs = await startSqs({ queues: ['ctr-events'] });
    s3 = await startS3({
      buckets: ['connect-ctr'],
      onEvent: (e) => {
        if (e.Records[0]?.eventName.startsWith('ObjectCreated')) {
          sqs.enqueue('ctr-events', JSON.stringify(e));
        }
      },
    });
    kms = await startKms({ keys: ['ctr'] });
    await kinesis.createStream('agent-events', 2);
  });

  afterAll(async () => {
    await Promise.all([kinesis?.stop(), s3?.stop(), sqs?.stop(), kms?.stop()]);
  });

  it('writes agent events, encrypted gzipped CTR objects and reports that read back as the truth', async () => {
    const written: WrittenAgentEvent[] = [];
    const simulator = new ConnectSimulator({
      seed: 4,
      agents: 10,
      start: new Date('2026-12-07T07:30:00Z'),
      speed: 'max',
      durationSeconds: 2 * 3600,
      firehose: { gzip: true, bufferSeconds: 600 },
      faults: { malformed: 0.1 },
      sinks: [
        new KinesisAgentEventSink({ client: kinesis.client(), stream: 'agent-events' }),
        new S3ObjectSink({
          client: s3.client(),
          bucket: 'connect-ctr',
          encryptor: kmsEnvelopeEncryptor({ kms: kms.client(), keyId: 'alias/ctr' }),
        }),
      ],
    });
    simulator.on('agentEvents', (events) => written.push(...events));
    const summary = await simulator.run();
    const sim = simulator.simulation;

    // Kinesis: every record in put order per shard, each agent on one shard
    const stream = await readStream(kinesis, 'agent-events');
    const all = [...stream.values()].flat();
    expect(all).toHaveLength(written.length);
    expect(written.length).toBeGreaterThanOrEqual(summary.agentEvents);
    expect(written.every((w) => w.put !== undefined)).toBe(true);
    for (const [shardId, records] of stream) {
      const expected = written
        .filter((w) => w.put?.shardId === shardId)
        .map((w) => `${w.output.partitionKey}|${w.output.data}`);
      expect(records).toEqual(expected);
    }

    // S3: encrypted gzip objects the CSE reader opens, one notification each
    const keys = await listKeys(s3, 'connect-ctr', 'ctr/');
    expect(keys.length).toBe(summary.objects);
    expect(keys.every((k) => k.endsWith('.gz'))).toBe(true);
    const contactIds = new Set<string>();
    let bad = 0;
    for (const key of keys) {
      const opened = await openS3Object({
        s3: s3.client(),
        kms: kms.client(),
        bucket: 'connect-ctr',
        key,
      });
      expect(opened.encryption).not.toBe('none');
      const chunks: Buffer[] = [];
      for await (const c of opened.body) chunks.push(c as Buffer);
      const plain = gunzipSync(Buffer.concat(chunks));
      for await (const item of readFirehoseRecords(Readable.from([plain]), { sourceName: key })) {
        if (item.kind === 'record') contactIds.add(item.record.ContactId);
        else bad++;
      }
    }
    expect(contactIds).toEqual(new Set(sim.contactTruth().map((c) => c.contactId)));
    expect(bad).toBe(sim.injectedMalformedCtrs().length);
    expect(bad).toBeGreaterThan(0);
    const reports = await listKeys(s3, 'connect-ctr', 'Reports/');
    expect(reports).toHaveLength(summary.reports);
    expect(sqs.messages('ctr-events')).toHaveLength(keys.length + reports.length);
    expect(kms.requestCount('GenerateDataKey')).toBe(keys.length);
  });

  it('runs as a CLI against the local endpoints and writes the truth file', async () => {
    await kinesis.createStream('cli-events', 1);
    await s3.createBucket('cli-bucket');
    const truthFile = join(s3.directory, 'truth.json');
    const { stderr } = await run(
      process.execPath,
      [
        '--import',
        'tsx',
        join(root, 'packages/connect-simulator/src/cli.ts'),
        '--agents',
        '4',
        '--speed',
        'max',
        '--duration',
        '1h',
        '--start',
        '2026-12-07T08:00:00Z',
        '--kinesis',
        'cli-events',
        '--s3',
        's3://cli-bucket/ctr/',
        '--region',
        'us-east-1',
        '--kinesis-endpoint',
        kinesis.endpoint,
        '--s3-endpoint',
        s3.endpoint,
        '--truth',
        truthFile,
      ],
      {
        cwd: root,
        env: {
          ...process.env,
          TSX_TSCONFIG_PATH: join(root, 'tsconfig.json'),
          AWS_ACCESS_KEY_ID: 'S3RVER',
          AWS_SECRET_ACCESS_KEY: 'S3RVER',
        },
        timeout: 120_000,
      },
    );
    const summary = JSON.parse(stderr.trim().split('\n').at(-1) as string);
    expect(summary.agentEvents).toBeGreaterThan(20);
    const records = [...(await readStream(kinesis, 'cli-events')).values()].flat();
    expect(records.length).toBe(summary.agentEvents);
    expect((await listKeys(s3, 'cli-bucket', 'ctr/')).length).toBeGreaterThan(0);
    const truth = JSON.parse(await (await import('node:fs/promises')).readFile(truthFile, 'utf8'));
    expect(truth.agents).toHaveLength(4);
  });
});
