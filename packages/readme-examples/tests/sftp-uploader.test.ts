// The sftp-uploader README example against s3rver and a real OpenSSH server: a CTR object read
// from S3, mapped to CSV on the fly and published, host key pinned, in the directory the example
// reads from SFTP_REMOTE_DIR.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { firehoseObjectToCsv } from '@connect-wfm/ctr-csv-mapper';
import { type S3Peer, type SshdServer, startS3, startSshd } from '@connect-wfm/testkit';
import { awsEnv, REPO, readmeExample, runExample, sftpEnv } from './support.js';

const KEY = 'ctr/2026/12/06/08/ctr-1-2026-12-06-08-00-00-abc';

describe('the sftp-uploader README example', () => {
  let sshd: SshdServer;
  let s3: S3Peer;

  beforeAll(async () => {
    [sshd, s3] = await Promise.all([startSshd(), startS3({ buckets: ['connect-ctr'] })]);
  });

  afterAll(async () => {
    await Promise.all([sshd?.stop(), s3?.stop()]);
  });

  it('streams a CTR object from S3 through the mapper to the pinned server, as CSV', async () => {
    const ctr = readFileSync(
      join(REPO, 'packages/ctr-csv-mapper/tests/fixtures/ctr-sample.firehose'),
    );
    await s3.client().send(new PutObjectCommand({ Bucket: 'connect-ctr', Key: KEY, Body: ctr }));
    const expected = await text(firehoseObjectToCsv([ctr], { sourceName: KEY }));
    const remoteDir = join(sshd.root, 'wfm', 'ctr'); // not the example's default: the variable is read

    const run = await runExample(readmeExample('sftp-uploader'), {
      env: {
        ...awsEnv({ S3: s3.endpoint }, s3.credentials, s3.region),
        ...sftpEnv(sshd),
        SFTP_REMOTE_DIR: remoteDir,
      },
    });
    run.cleanUp();
    expect({ exit: run.exit, out: run.out }).toEqual({ exit: 0, out: expect.any(String) });
    expect(run.stdout).toMatch(
      /^published \S+\/wfm\/ctr\/ctr-1-2026-12-06-08-00-00-abc\.csv \(\d+ bytes\)$/m,
    );
    expect(run.out).not.toContain(sshd.password);

    expect(readdirSync(remoteDir)).toEqual(['ctr-1-2026-12-06-08-00-00-abc.csv']);
    const csv = readFileSync(join(remoteDir, 'ctr-1-2026-12-06-08-00-00-abc.csv'), 'utf8');
    expect(expected.split('\n').length).toBeGreaterThan(2); // a header and rows
    expect(csv).toBe(expected);
    expect(existsSync(join(sshd.home, 'inbound'))).toBe(false);
  });
});
