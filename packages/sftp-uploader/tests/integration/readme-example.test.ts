// Runs the README's example as written (only the server, the bucket and the credentials are
// pointed at local peers): a CTR object read from S3 (s3rver), mapped to CSV on the fly and
// delivered to a real OpenSSH server with a pinned host key.
import { spawn } from 'node:child_process';
import {
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { type S3Peer, type SshdServer, startS3, startSshd } from '@connect-wfm/testkit';

const PACKAGE = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const REPO = join(PACKAGE, '..', '..');
const KEY = 'ctr/2026/12/06/08/ctr-1-2026-12-06-08-00-00-abc';

/** The first ```ts block of the README. */
function readmeExample(): string {
  const readme = readFileSync(join(PACKAGE, 'README.md'), 'utf8');
  const match = /```ts\n([\s\S]*?)```/.exec(readme);
  if (match === null) throw new Error('README has no ts example');
  return match[1] as string;
}

/** Replaces `from` (which must occur) by `to`. */
function swap(text: string, from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`README example no longer contains ${from}`);
  return text.split(from).join(to);
}

function run(file: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file], {
      env: { ...process.env, ...env, TSX_TSCONFIG_PATH: join(REPO, 'tsconfig.json') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

describe('the README example', () => {
  let sshd: SshdServer;
  let s3: S3Peer;
  let work: string;

  beforeAll(async () => {
    sshd = await startSshd();
    s3 = await startS3({ buckets: ['connect-ctr'] });
    work = mkdtempSync(join(tmpdir(), 'cwfm-sftp-readme-'));
    symlinkSync(join(REPO, 'node_modules'), join(work, 'node_modules'));
  });

  afterAll(async () => {
    await sshd?.stop();
    await s3?.stop();
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  it('streams a CTR object from S3 through the mapper to the pinned SFTP server', async () => {
    const ctr = readFileSync(
      join(REPO, 'packages/ctr-csv-mapper/tests/fixtures/ctr-sample.firehose'),
    );
    await s3.client().send(new PutObjectCommand({ Bucket: 'connect-ctr', Key: KEY, Body: ctr }));

    let code = readmeExample();
    code = swap(code, "host: 'sftp.wfm.example.com',", `host: '127.0.0.1', port: ${sshd.port},`);
    code = swap(code, "username: 'connect',", `username: '${sshd.username}',`);
    code = swap(code, 'SHA256:Wszx+QIWIJ+h5ej8cEN3YBSE3hTWB8K8gT8XkFWhBYA', sshd.hostKeySha256);
    code = swap(code, "remoteDir: 'inbound/ctr',", `remoteDir: '${sshd.root}/inbound/ctr',`);
    code = swap(
      code,
      'new S3Client({})',
      `new S3Client({ endpoint: '${s3.endpoint}', region: '${s3.region}', forcePathStyle: true, credentials: ${JSON.stringify(s3.credentials)} })`,
    );
    const file = join(work, 'example.mts'); // top-level await: an ES module
    writeFileSync(file, code);

    const { code: exit, out } = await run(file, { SFTP_PASSWORD: sshd.password });

    expect(out).toMatch(/published .*\/inbound\/ctr\/\S+\.csv \(\d+ bytes\)/);
    expect(exit).toBe(0);
    const delivered = readdirSync(join(sshd.root, 'inbound/ctr'));
    expect(delivered).toHaveLength(1);
    const csv = readFileSync(join(sshd.root, 'inbound/ctr', delivered[0] as string), 'utf8');
    expect(csv.split('\n').length).toBeGreaterThan(2); // a header and rows
    expect(out).not.toContain(sshd.password);
  });
});
