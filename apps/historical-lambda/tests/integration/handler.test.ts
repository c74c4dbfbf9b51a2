import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { GetObjectCommand, GetObjectTaggingCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { firehoseObjectToCsv } from '@connect-wfm/ctr-csv-mapper';
import {
  type KmsPeer,
  type MotoServer,
  type S3Peer,
  type SqsPeer,
  type SshdServer,
  startKms,
  startMoto,
  startS3,
  startSqs,
  startSshd,
} from '@connect-wfm/testkit';
import { jest } from '@jest/globals';
import { encryptLikeS3Client } from '../../../../packages/s3-cse-reader/tests/support/cse-writer.js';
import { AGENT_REPORT, firehoseObject, s3Notification, sqsEvent } from '../support/fixtures.js';
import { buildBundle, type LambdaContainer, startContainer } from '../support/runtime.js';

// Building the bundle and starting the peers takes a while on a loaded machine.
jest.setTimeout(240_000);

const BUCKET = 'connect-data';

interface BatchResponse {
  batchItemFailures: Array<{ itemIdentifier: string }>;
}

async function expectedCsv(body: Buffer): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of firehoseObjectToCsv([body])) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

describe('the bundled handler, invoked as the Lambda runtime does', () => {
  let work: string;
  let bundle: string;
  let s3peer: S3Peer;
  let sqs: SqsPeer;
  let kmsPeer: KmsPeer;
  let sshd: SshdServer;
  let moto: MotoServer;
  let env: Record<string, string>;
  let lambda: LambdaContainer;
  const containers: LambdaContainer[] = [];

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'historical-lambda-'));
    const built = await buildBundle(work);
    bundle = join(work, 'index.mjs');
    expect(built.zipBytes).toBeGreaterThan(0);
    [s3peer, sqs, kmsPeer, sshd, moto] = await Promise.all([
      startS3({ buckets: [BUCKET] }),
      startSqs({ queues: ['drain', 'poison-dlq'] }),
      startKms({ keys: ['ctr', 'other'] }),
      startSshd(),
      startMoto(),
    ]);
    sqs.createQueue('poison', {
      VisibilityTimeout: '1',
      RedrivePolicy: JSON.stringify({
        deadLetterTargetArn: sqs.queueArn('poison-dlq'),
        maxReceiveCount: 2,
      }),
    });
    await moto.createSecret('wfm/sftp', JSON.stringify({ password: `${sshd.password}` }));
    env = {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: s3peer.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3peer.credentials.secretAccessKey,
      AWS_ENDPOINT_URL_S3: s3peer.endpoint,
      AWS_ENDPOINT_URL_SQS: sqs.endpoint,
      AWS_ENDPOINT_URL_KMS: kmsPeer.endpoint,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: moto.endpoint,
      S3_FORCE_PATH_STYLE: 'true',
      SFTP_HOST: sshd.host,
      SFTP_PORT: String(sshd.port),
      SFTP_USERNAME: sshd.username,
      SFTP_HOST_KEY: sshd.hostKeySha256,
      SFTP_REMOTE_DIR: sshd.root,
      SFTP_SECRET_ID: 'wfm/sftp',
      SFTP_MAX_ATTEMPTS: '2',
      SFTP_CONNECT_TIMEOUT_MS: '10000',
      QUEUE_URL: sqs.queueUrl('drain'),
      BATCH_RESERVE_MS: '1000',
      DRAIN_RESERVE_MS: '1000',
      DRAIN_VISIBILITY_TIMEOUT_SECONDS: '30',
      LOG_LEVEL: 'DEBUG',
    };
    lambda = await startContainer(bundle, env);
    containers.push(lambda);
    expect(lambda.initError).toBeUndefined();
  });

  afterAll(async () => {
    for (const c of containers) await c.stop();
    await Promise.all([s3peer?.stop(), sqs?.stop(), kmsPeer?.stop(), sshd?.stop(), moto?.stop()]);
    if (work) await rm(work, { recursive: true, force: true });
  });

  async function put(key: string, body: Buffer | string, metadata?: Record<string, string>) {
    await s3peer.client().send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: key,
        Body: body,
        ...(metadata ? { Metadata: metadata } : {}),
      }),
    );
  }
  const remote = (name: string) => join(sshd.root, name);
  const batch = (...keys: string[]) =>
    sqsEvent(keys.map((key, i) => ({ id: `m${i}-${key}`, body: s3Notification(BUCKET, key) })));

  it('converts a plain and a GZIP CTR object to the expected CSV on the SFTP server', async () => {
    const plain = firehoseObject(50);
    const zipped = firehoseObject(40, 100);
    await put('ctr/2026/11/24/08/stream-1-2026-11-24-08-00-00-aaa', plain);
    await put('ctr/2026/11/24/08/stream-1-2026-11-24-08-05-00-bbb.gz', gzipSync(zipped));
    const out = await lambda.invoke<BatchResponse>(
      'handler',
      batch(
        'ctr/2026/11/24/08/stream-1-2026-11-24-08-00-00-aaa',
        'ctr/2026/11/24/08/stream-1-2026-11-24-08-05-00-bbb.gz',
      ),
    );
    expect(out).toEqual({ batchItemFailures: [] });
    expect(
      readFileSync(remote('stream-1-2026-11-24-08-00-00-aaa.csv')).equals(await expectedCsv(plain)),
    ).toBe(true);
    expect(
      readFileSync(remote('stream-1-2026-11-24-08-05-00-bbb.gz.csv')).equals(
        await expectedCsv(zipped),
      ),
    ).toBe(true);
    const tags = await s3peer.client().send(
      new GetObjectTaggingCommand({
        Bucket: BUCKET,
        Key: 'ctr/2026/11/24/08/stream-1-2026-11-24-08-00-00-aaa',
      }),
    );
    expect(tags.TagSet?.map((t) => t.Key)).toContain('connect-wfm-delivered');
  });

  it('converts CSE v2 and v1 encrypted CTR objects', async () => {
    const kms = kmsPeer.client();
    const body = firehoseObject(30, 200);
    const v2 = await encryptLikeS3Client(kms, kmsPeer.keys[0]!.keyId, gzipSync(body), 2);
    const v1 = await encryptLikeS3Client(kms, kmsPeer.keys[0]!.keyId, body, 1);
    await put('ctr/enc/v2-object', v2.body, v2.metadata);
    await put('ctr/enc/v1-object', v1.body, v1.metadata);
    const out = await lambda.invoke<BatchResponse>(
      'handler',
      batch('ctr/enc/v2-object', 'ctr/enc/v1-object'),
    );
    expect(out).toEqual({ batchItemFailures: [] });
    const expected = await expectedCsv(body);
    expect(readFileSync(remote('v2-object.csv')).equals(expected)).toBe(true);
    expect(readFileSync(remote('v1-object.csv')).equals(expected)).toBe(true);
  });

  it('passes a report through byte-identical, classified by its content', async () => {
    const key = 'connect/acme/Reports/TeleoptiAgentPerformance-2026-11-24T08:30:00Z.csv';
    await put(key, AGENT_REPORT);
    const out = await lambda.invoke<BatchResponse>('handler', batch(key));
    expect(out).toEqual({ batchItemFailures: [] });
    expect(readFileSync(remote('TeleoptiAgentPerformance-2026-11-24T08_30_00Z.csv'), 'utf8')).toBe(
      AGENT_REPORT,
    );
  });

  it('acknowledges a redelivered message for a delivered object without a second upload', async () => {
    const key = 'ctr/redeliver/object with space';
    await put(key, firehoseObject(5, 300));
    const event = batch(key);
    expect(await lambda.invoke<BatchResponse>('handler', event)).toEqual({ batchItemFailures: [] });
    const file = remote('object with space.csv');
    expect(existsSync(file)).toBe(true);
    writeFileSync(file, 'sentinel');
    expect(await lambda.invoke<BatchResponse>('handler', event)).toEqual({ batchItemFailures: [] });
    expect(readFileSync(file, 'utf8')).toBe('sentinel');
    expect(lambda.logs()).toContain('object already delivered');
  });

  it('fails only the bad messages of a batch (unrecognized, unknown object, missing object)', async () => {
    await put('ctr/partial/good', firehoseObject(3, 400));
    await put('misc/readme.txt', 'hello, this is not data');
    const event = sqsEvent([
      { id: 'good', body: s3Notification(BUCKET, 'ctr/partial/good') },
      { id: 'garbage', body: 'not json at all' },
      { id: 'unknown', body: s3Notification(BUCKET, 'misc/readme.txt') },
      { id: 'missing', body: s3Notification(BUCKET, 'ctr/partial/missing') },
      {
        id: 'test',
        body: JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent', Bucket: BUCKET }),
      },
    ]);
    const out = await lambda.invoke<BatchResponse>('handler', event);
    expect(out.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual([
      'garbage',
      'missing',
      'unknown',
    ]);
    expect(existsSync(remote('good.csv'))).toBe(true);
    expect(existsSync(remote('readme.txt.csv'))).toBe(false);
    const logs = lambda.logs();
    expect(logs).toContain('SQS message garbage is not an S3 notification');
    expect(logs).toContain('s3://connect-data/misc/readme.txt is neither a CTR object');
    expect(logs).toContain('s3:TestEvent acknowledged');
  });

  it('quarantines the bad bytes of a malformed object and delivers its good records', async () => {
    const good1 = firehoseObject(2, 500);
    const good2 = firehoseObject(2, 600);
    const body = Buffer.concat([good1, Buffer.from('{"ContactId": broken}'), good2]);
    await put('ctr/bad/mixed', body);
    const out = await lambda.invoke<BatchResponse>('handler', batch('ctr/bad/mixed'));
    expect(out).toEqual({ batchItemFailures: [] });
    const csv = readFileSync(remote('mixed.csv'), 'utf8');
    expect(csv.trim().split('\n')).toHaveLength(1 + 4);
    const q = await s3peer
      .client()
      .send(new GetObjectCommand({ Bucket: BUCKET, Key: 'quarantine/ctr/bad/mixed.bad.jsonl' }));
    const lines = (await q.Body!.transformToString())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      object: 's3://connect-data/ctr/bad/mixed',
      offset: good1.length,
    });
    expect(lines[0].preview).toContain('broken');
    expect(Buffer.from(lines[0].bytesBase64, 'base64').toString('utf8')).toBe(
      '{"ContactId": broken}',
    );
  });

  it('refuses a tampered ciphertext and a key from another KMS, delivering nothing', async () => {
    const kms = kmsPeer.client();
    const body = firehoseObject(20, 700);
    const tampered = await encryptLikeS3Client(kms, kmsPeer.keys[0]!.keyId, body, 2);
    const at = tampered.body.length - 40;
    tampered.body[at] = (tampered.body[at] as number) ^ 0xff;
    await put('ctr/enc/tampered', tampered.body, tampered.metadata);
    // A data key wrapped by moto's KMS: the configured KMS cannot unwrap it.
    const motoKms = new KMSClient({
      endpoint: moto.endpoint,
      region: moto.region,
      credentials: moto.credentials,
    });
    const key = await motoKms.send(new CreateKeyCommand({}));
    const foreign = await encryptLikeS3Client(motoKms, key.KeyMetadata!.KeyId!, body, 2);
    motoKms.destroy();
    await put('ctr/enc/foreign', foreign.body, foreign.metadata);
    const out = await lambda.invoke<BatchResponse>(
      'handler',
      batch('ctr/enc/tampered', 'ctr/enc/foreign'),
    );
    expect(out.batchItemFailures).toHaveLength(2);
    expect(existsSync(remote('tampered.csv'))).toBe(false);
    expect(existsSync(remote('foreign.csv'))).toBe(false);
    const logs = lambda.logs();
    expect(logs).toContain('s3://connect-data/ctr/enc/tampered: the AES-GCM tag does not verify');
    expect(logs).toContain('s3://connect-data/ctr/enc/foreign: KMS refused to unwrap the data key');
  });

  it('retries the messages hit by an SFTP outage mid-batch and publishes nothing partial', async () => {
    await put('ctr/outage/a', firehoseObject(5, 800));
    await put('ctr/outage/big', firehoseObject(40_000, 1000));
    await put('ctr/outage/c', firehoseObject(5, 900));
    const event = sqsEvent(
      ['a', 'big', 'c'].map((k) => ({ id: k, body: s3Notification(BUCKET, `ctr/outage/${k}`) })),
    );
    const running = lambda.invoke<BatchResponse>('handler', event);
    // Kill the server once the big file's temporary upload has started.
    const started = () =>
      readdirSync(sshd.root).some((f) => f.startsWith('.big.csv.') && f.endsWith('.part'));
    for (let i = 0; i < 3000 && !started(); i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(started()).toBe(true);
    await sshd.kill();
    const out = await running;
    await sshd.start();
    expect(out.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(['big', 'c']);
    expect(existsSync(remote('a.csv'))).toBe(true);
    expect(existsSync(remote('big.csv'))).toBe(false);
    expect(existsSync(remote('c.csv'))).toBe(false);
    // The retry delivers them.
    const retry = sqsEvent(
      ['big', 'c'].map((k) => ({ id: k, body: s3Notification(BUCKET, `ctr/outage/${k}`) })),
    );
    expect(await lambda.invoke<BatchResponse>('handler', retry)).toEqual({ batchItemFailures: [] });
    expect(readFileSync(remote('big.csv'), 'utf8').split('\n')).toHaveLength(40_002);
  });

  it('drains until time runs short, leaving the undelivered messages in the queue', async () => {
    for (const k of ['d1', 'd2', 'd3', 'd4']) {
      await put(`ctr/drain/${k}`, firehoseObject(2, 1100));
      sqs.enqueue('drain', s3Notification(BUCKET, `ctr/drain/${k}`));
    }
    // Time is plentiful for the first checks, then runs short.
    const result = await lambda.invoke<{
      deleted: number;
      released: number;
      stoppedBecause: string;
    }>('drain', {}, { fullCalls: 3 });
    expect(result.stoppedBecause).toBe('time');
    expect(result.deleted).toBeGreaterThanOrEqual(1);
    const left = sqs.messages('drain');
    expect(left.length).toBe(4 - result.deleted);
    expect(left.length).toBeGreaterThanOrEqual(1);
    const delivered = readdirSync(sshd.root).filter((f) => /^d\d\.csv$/.test(f));
    expect(delivered).toHaveLength(result.deleted);
    // A later run with time to spare empties the queue.
    const again = await lambda.invoke<{ stoppedBecause: string }>('drain', {});
    expect(again.stoppedBecause).toBe('empty');
    expect(sqs.messages('drain')).toHaveLength(0);
    expect(readdirSync(sshd.root).filter((f) => /^d\d\.csv$/.test(f))).toHaveLength(4);
  });

  it('sends a poison message to the DLQ after maxReceiveCount receives', async () => {
    const drainer = await startContainer(bundle, {
      ...env,
      QUEUE_URL: sqs.queueUrl('poison'),
      DRAIN_VISIBILITY_TIMEOUT_SECONDS: '1',
    });
    containers.push(drainer);
    sqs.enqueue('poison', '{"not":"an event"}');
    for (let round = 0; round < 3; round++) {
      await drainer.invoke('drain', {});
      await new Promise((r) => setTimeout(r, 1100));
    }
    expect(sqs.messages('poison')).toHaveLength(0);
    expect(sqs.messages('poison-dlq').map((m) => m.body)).toEqual(['{"not":"an event"}']);
  });

  it('fails the cold start with every configuration problem listed', async () => {
    const bad = await startContainer(bundle, {
      ...env,
      SFTP_HOST: '',
      SFTP_PORT: 'twenty-two',
      SFTP_HOST_KEY: 'md5:aa:bb',
      SFTP_SECRET_PARAMETER: '/wfm/sftp',
      REPORT_MODE: 'zip',
      STATS_INTERVAL_MINUTES: '20',
    });
    containers.push(bad);
    expect(bad.initError?.message).toContain('6 problems');
    for (const name of [
      'SFTP_HOST',
      'SFTP_PORT',
      'SFTP_HOST_KEY',
      'SFTP_SECRET_ID',
      'REPORT_MODE',
      'STATS_INTERVAL_MINUTES',
    ]) {
      expect(bad.initError?.message).toContain(name);
    }
    await expect(bad.invoke('handler', sqsEvent([]))).rejects.toThrow(/init failed/);
  });

  it('never writes the SFTP password to a log line', () => {
    expect(sshd.password.length).toBeGreaterThan(0);
    for (const c of containers) expect(c.logs()).not.toContain(sshd.password);
  });
});
