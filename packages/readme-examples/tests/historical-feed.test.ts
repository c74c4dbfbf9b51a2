// The historical feed's README example against s3rver, the testkit's SQS endpoint and a real
// OpenSSH server: an S3 notification on the queue becomes a CSV file on the SFTP server.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import {
  type S3Peer,
  type SqsPeer,
  type SshdServer,
  startS3,
  startSqs,
  startSshd,
} from '@connect-wfm/testkit';
import { awsEnv, REPO, readmeExample, runExample, sftpEnv } from './support.js';

describe('the historical-feed README example', () => {
  let sshd: SshdServer;
  let sqs: SqsPeer;
  let s3: S3Peer;

  beforeAll(async () => {
    sqs = await startSqs({ queues: ['historical'] });
    [sshd, s3] = await Promise.all([
      startSshd(),
      startS3({
        buckets: ['connect-ctr'],
        onEvent: (e) => sqs.enqueue('historical', JSON.stringify(e)),
      }),
    ]);
  });

  afterAll(async () => {
    await Promise.all([sshd?.stop(), sqs?.stop(), s3?.stop()]);
  });

  it('drains the queue: the CTR object is on the SFTP server as CSV, the message deleted', async () => {
    const key = 'ctr/2026/12/06/08/ctr-1-2026-12-06-08-00-00-abc';
    const ctr = readFileSync(
      join(REPO, 'packages/ctr-csv-mapper/tests/fixtures/ctr-sample.firehose'),
    );
    await s3.client().send(new PutObjectCommand({ Bucket: 'connect-ctr', Key: key, Body: ctr }));
    expect(sqs.messages('historical')).toHaveLength(1);

    const run = await runExample(readmeExample('historical-feed'), {
      env: {
        ...awsEnv({ S3: s3.endpoint, SQS: sqs.endpoint }, s3.credentials, s3.region),
        ...sftpEnv(sshd),
        QUEUE_URL: sqs.queueUrl('historical'),
      },
    });
    run.cleanUp();
    expect({ exit: run.exit, out: run.out }).toEqual({ exit: 0, out: expect.any(String) });
    expect(run.stdout).toMatch(/received: 1,/);
    expect(run.stdout).toMatch(/deleted: 1,/);
    expect(run.out).not.toContain(sshd.password);
    const files = readdirSync(sshd.home).filter((f) => f.endsWith('.csv'));
    expect(files).toEqual(['ctr-1-2026-12-06-08-00-00-abc.csv']);
    const csv = readFileSync(join(sshd.home, files[0] as string), 'utf8');
    expect(csv.trimEnd().split('\n').length).toBeGreaterThan(1);
    expect(sqs.messages('historical')).toHaveLength(0);
  });
});
