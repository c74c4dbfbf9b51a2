// The README examples that read from or write to AWS services, against kinesalite, s3rver and the
// testkit's KMS endpoint. The examples build their SDK clients with `{}`: the endpoints, region and
// credentials reach them through the SDK's own environment variables.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  type KinesaliteServer,
  type KmsPeer,
  type S3Peer,
  startKinesalite,
  startKms,
  startS3,
} from '@connect-wfm/testkit';
import { awsEnv, readmeExample, runExample } from './support.js';

describe('README examples against kinesalite, s3rver and KMS', () => {
  let kinesis: KinesaliteServer;
  let s3: S3Peer;
  let kms: KmsPeer;
  let env: Record<string, string>;

  beforeAll(async () => {
    [kinesis, s3, kms] = await Promise.all([
      startKinesalite(),
      startS3({ buckets: ['connect-ctr', 'connect-data'] }),
      startKms(),
    ]);
    await kinesis.createStream('agent-events', 2);
    // s3rver accepts only its own account; kinesalite and the KMS endpoint accept any.
    env = awsEnv(
      { KINESIS: kinesis.endpoint, S3: s3.endpoint, KMS: kms.endpoint },
      s3.credentials,
      s3.region,
    );
  });

  afterAll(async () => {
    await Promise.all([kinesis?.stop(), s3?.stop(), kms?.stop()]);
  });

  it('kinesis-shard-reader: reads every shard, reports caughtUp, checkpoints, stops on SIGTERM', async () => {
    const events = ['agent.a LOGIN', 'agent.b LOGIN', 'agent.a STATE_CHANGE'];
    await kinesis.putRecords(
      'agent-events',
      events.map((data, i) => ({ data, partitionKey: `agent-${i % 2}` })),
    );
    const run = await runExample(readmeExample('kinesis-shard-reader'), {
      env,
      stopWhen: (out) => out.includes('at its tip') && events.every((e) => out.includes(e)),
    });
    const checkpoints = readFileSync(join(run.dir, 'checkpoints.json'), 'utf8');
    run.cleanUp();
    expect({ exit: run.exit, out: run.out }).toEqual({ exit: 0, out: expect.any(String) });
    expect(run.stdout).toContain('every shard is at its tip: post the snapshot now');
    for (const e of events) expect(run.stdout).toMatch(new RegExp(`^shardId-\\d+ \\d+ ${e}$`, 'm'));
    expect(checkpoints).toMatch(/shardId-00000000000[01]/);
  });

  it('connect-simulator: one simulated hour into Kinesis and S3, with its ground truth', async () => {
    const run = await runExample(readmeExample('connect-simulator'), { env });
    run.cleanUp();
    expect({ exit: run.exit, out: run.out }).toEqual({ exit: 0, out: expect.any(String) });
    const agentLines = run.stdout.split('\n').filter((l) => /^\S+ \S/.test(l));
    expect(agentLines.length).toBeGreaterThanOrEqual(20);
    const listed = await s3.client().send(new ListObjectsV2Command({ Bucket: 'connect-ctr' }));
    expect(listed.KeyCount).toBeGreaterThan(0);
    const shards = await kinesis.listShards('agent-events');
    expect(shards.length).toBe(2);
  });

  it('s3-cse-reader: a plaintext object streamed to a file', async () => {
    const key = 'ctr/2026/11/24/08/stream-1-2026-11-24-08-00-00-abc';
    const body = '{"ContactId":"c-1"}{"ContactId":"c-2"}';
    await s3.client().send(new PutObjectCommand({ Bucket: 'connect-data', Key: key, Body: body }));
    const run = await runExample(readmeExample('s3-cse-reader'), { env });
    const written = readFileSync(join(run.dir, 'object.json'), 'utf8');
    run.cleanUp();
    expect({ exit: run.exit, stdout: run.stdout }).toEqual({ exit: 0, stdout: 'none\n' });
    expect(written).toBe(body);
  });
});
