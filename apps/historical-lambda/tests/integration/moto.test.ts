import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { firehoseObjectToCsv } from '@connect-wfm/ctr-csv-mapper';
import {
  type MotoServer,
  type S3Peer,
  type SshdServer,
  startMoto,
  startS3,
  startSshd,
} from '@connect-wfm/testkit';
import { jest } from '@jest/globals';
import { encryptLikeS3Client } from '../../../../packages/s3-cse-reader/tests/support/cse-writer.js';
import { firehoseObject, s3Notification } from '../support/fixtures.js';
import { buildBundle, type LambdaContainer, startContainer } from '../support/runtime.js';

// Building the bundle and starting the peers takes a while on a loaded machine.
jest.setTimeout(240_000);

const BUCKET = 'connect-data';

describe('the bundled drain against moto (SQS, KMS, SSM SecureString) as a second implementation', () => {
  let work: string;
  let s3peer: S3Peer;
  let sshd: SshdServer;
  let moto: MotoServer;
  let lambda: LambdaContainer | undefined;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'historical-lambda-moto-'));
    await buildBundle(work);
    [s3peer, sshd, moto] = await Promise.all([
      startS3({ buckets: [BUCKET] }),
      startSshd(),
      startMoto(),
    ]);
  });

  afterAll(async () => {
    await lambda?.stop();
    await Promise.all([s3peer?.stop(), sshd?.stop(), moto?.stop()]);
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('delivers S3, SNS-wrapped and EventBridge messages with a CSE v2 object and a private key from SSM', async () => {
    const aws = { endpoint: moto.endpoint, region: moto.region, credentials: moto.credentials };
    const sqs = new SQSClient(aws);
    const kms = new KMSClient(aws);
    const ssm = new SSMClient(aws);
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'historical' }));
    const key = await kms.send(new CreateKeyCommand({}));
    await ssm.send(
      new PutParameterCommand({
        Name: '/wfm/sftp',
        Type: 'SecureString',
        // A customer managed key, as the template's SftpSecretParameterKmsKeyArn describes.
        KeyId: key.KeyMetadata?.KeyId,
        Value: JSON.stringify({ privateKey: sshd.privateKey }),
      }),
    );
    const body = firehoseObject(25);
    const enc = await encryptLikeS3Client(kms, key.KeyMetadata?.KeyId ?? '', body, 2);
    const s3 = s3peer.client();
    await s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: 'ctr/moto/enc',
        Body: enc.body,
        Metadata: enc.metadata,
      }),
    );
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'ctr/moto/sns', Body: body }));
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'ctr/moto/eb', Body: body }));
    const messages = [
      s3Notification(BUCKET, 'ctr/moto/enc'),
      JSON.stringify({
        Type: 'Notification',
        TopicArn: 'arn:aws:sns:us-east-1:123456789012:t',
        Message: s3Notification(BUCKET, 'ctr/moto/sns'),
      }),
      JSON.stringify({
        version: '0',
        source: 'aws.s3',
        'detail-type': 'Object Created',
        detail: { bucket: { name: BUCKET }, object: { key: 'ctr/moto/eb', size: body.length } },
      }),
    ];
    for (const MessageBody of messages)
      await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody }));

    lambda = await startContainer(join(work, 'index.mjs'), {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: s3peer.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3peer.credentials.secretAccessKey,
      AWS_ENDPOINT_URL_S3: s3peer.endpoint,
      AWS_ENDPOINT_URL_SQS: moto.endpoint,
      AWS_ENDPOINT_URL_KMS: moto.endpoint,
      AWS_ENDPOINT_URL_SSM: moto.endpoint,
      S3_FORCE_PATH_STYLE: 'true',
      SFTP_HOST: sshd.host,
      SFTP_PORT: String(sshd.port),
      SFTP_USERNAME: sshd.username,
      SFTP_HOST_KEY: sshd.hostKeySha256,
      SFTP_REMOTE_DIR: sshd.root,
      SFTP_SECRET_PARAMETER: '/wfm/sftp',
      QUEUE_URL: QueueUrl ?? '',
      DRAIN_RESERVE_MS: '1000',
      KMS_KEY_ID: key.KeyMetadata?.Arn ?? '',
    });
    expect(lambda.initError).toBeUndefined();
    const result = await lambda.invoke<{ deleted: number; failed: number; stoppedBecause: string }>(
      'drain',
      {},
    );
    expect(result).toMatchObject({ deleted: 3, failed: 0, stoppedBecause: 'empty' });
    const parts: Buffer[] = [];
    for await (const c of firehoseObjectToCsv([body])) parts.push(c as Buffer);
    const expected = Buffer.concat(parts);
    for (const name of ['enc.csv', 'sns.csv', 'eb.csv']) {
      expect(readFileSync(join(sshd.root, name)).equals(expected)).toBe(true);
    }
    const attrs = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    expect(attrs.Attributes).toMatchObject({
      ApproximateNumberOfMessages: '0',
      ApproximateNumberOfMessagesNotVisible: '0',
    });
    expect(lambda.logs()).not.toContain('PRIVATE KEY');
    sqs.destroy();
    kms.destroy();
    ssm.destroy();
  });
});
