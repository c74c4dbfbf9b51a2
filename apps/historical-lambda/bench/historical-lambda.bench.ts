// The bundled Lambda on one 100 MB Firehose CTR object: s3rver -> handler (in a process limited
// like a 256 MB Lambda) -> OpenSSH sshd. Baseline measured in the same run: an S3 GET of the
// object alone plus OpenSSH's own `sftp` uploading the finished CSV.
//   npm run bench -- historical-lambda
import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { firehoseObjectToCsv } from '@connect-wfm/ctr-csv-mapper';
import { printBench, printTable, startMoto, startS3, startSshd, timed } from '@connect-wfm/testkit';
import { ctr, s3Notification, sqsEvent } from '../tests/support/fixtures.js';
import { buildBundle, startContainer } from '../tests/support/runtime.js';

const TARGET_BYTES = Number(process.env.BENCH_OBJECT_MB ?? 100) * 1024 * 1024;
const BUCKET = 'bench';
const LAMBDA_MEMORY_MB = 256;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const OLD_SPACE_MB = Number(process.env.BENCH_OLD_SPACE_MB ?? Math.floor(LAMBDA_MEMORY_MB * 0.9));

// BENCH_CPU_PROF=<dir>: a readable (unminified) bundle, and a V8 CPU profile of each round's
// container written to <dir> (open it in Chrome DevTools or summarise it with any .cpuprofile tool).
const CPU_PROF_DIR = process.env.BENCH_CPU_PROF;
// BENCH_COMPARE_BUNDLE=<index.mjs>: another build of the handler (an earlier commit's, say) run in
// every round under the same conditions; its best ratio is printed as compare_ratio.
const COMPARE_BUNDLE = process.env.BENCH_COMPARE_BUNDLE;

const work = mkdtempSync(join(tmpdir(), 'cwfm-hl-bench-'));
const built = await buildBundle(work, CPU_PROF_DIR !== undefined);
const [s3peer, sshd, moto] = await Promise.all([
  startS3({ buckets: [BUCKET] }),
  startSshd(),
  startMoto(),
]);
try {
  // The object: distinct CTRs, concatenated without delimiter, about 100 MB.
  const parts: Buffer[] = [];
  let size = 0;
  for (let i = 0; size < TARGET_BYTES; i++) {
    const b = Buffer.from(JSON.stringify(ctr(i)), 'utf8');
    parts.push(b);
    size += b.length;
  }
  const object = Buffer.concat(parts);
  parts.length = 0;
  const s3 = s3peer.client();
  const key = 'ctr/2026/11/24/08/bench-1-2026-11-24-08-00-00-0001';
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: object }));

  // The finished CSV (its conversion time in this process is printed for reference), for the OpenSSH baseline.
  const csvPath = join(work, 'bench-1-2026-11-24-08-00-00-0001.csv');
  const convert = await timed(() =>
    pipeline(firehoseObjectToCsv([object]), createWriteStream(csvPath)),
  );
  const csvBytes = statSync(csvPath).size;
  const batchFile = join(work, 'sftp-batch');
  writeFileSync(batchFile, `put ${csvPath} ${sshd.root}/openssh.csv\n`);

  await moto.createSecret('wfm/sftp', JSON.stringify({ privateKey: sshd.privateKey }));

  const env = {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: s3peer.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3peer.credentials.secretAccessKey,
    AWS_ENDPOINT_URL_S3: s3peer.endpoint,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: moto.endpoint,
    S3_FORCE_PATH_STYLE: 'true',
    SFTP_HOST: sshd.host,
    SFTP_PORT: String(sshd.port),
    SFTP_USERNAME: sshd.username,
    SFTP_HOST_KEY: sshd.hostKeySha256,
    SFTP_REMOTE_DIR: sshd.root,
    SFTP_SECRET_ID: 'wfm/sftp',
    LOG_LEVEL: 'WARN',
    ...(process.env.READ_AHEAD_BYTES ? { READ_AHEAD_BYTES: process.env.READ_AHEAD_BYTES } : {}),
    ...(process.env.RUNNER_MEMORY_TRACE === '1' ? { RUNNER_MEMORY_TRACE: '1' } : {}),
  };
  // Lambda's Node.js runtime caps the old space at about 90% of the function's memory.
  const execArgv = [
    `--max-old-space-size=${OLD_SPACE_MB}`,
    ...(CPU_PROF_DIR !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF_DIR}`] : []),
  ];

  /** One fresh container (its init is the cold start) delivering one new, untagged object. */
  const runHandler = async (bundle: string, roundKey: string) => {
    const container = await startContainer(bundle, env, execArgv);
    if (container.initError) throw new Error(`init failed: ${container.initError.message}`);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: roundKey, Body: object }));
    const run = await timed(() =>
      container.invoke<{ batchItemFailures: unknown[] }>(
        'handler',
        sqsEvent([{ id: 'm', body: s3Notification(BUCKET, roundKey) }]),
        { timeoutMs: 900_000 },
      ),
    );
    if (run.result.batchItemFailures.length !== 0)
      throw new Error(`handler failed: ${container.logs().slice(-2000)}`);
    const delivered = statSync(
      join(sshd.root, `${roundKey.slice(roundKey.lastIndexOf('/') + 1)}.csv`),
    ).size;
    if (delivered !== csvBytes)
      throw new Error(`delivered ${delivered} bytes, expected ${csvBytes}`);
    if (process.env.BENCH_DEBUG === '1') {
      await new Promise((r) => setTimeout(r, 500));
      process.stdout.write(`${container.logs()}\n`);
    }
    const peak = container.peakRssMb();
    if (process.env.RUNNER_MEMORY_TRACE === '1')
      process.stdout.write(`memory peaks (MB): ${JSON.stringify(container.memory())}\n`);
    await container.stop(CPU_PROF_DIR !== undefined);
    return { ms: run.ms, peak, init: container.initMs, cpu: container.cpuMs() };
  };

  const rows: Array<Record<string, number | string>> = [];
  const ratios: Array<{ ratio: number; peak: number; init: number }> = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const get = await timed(async () => {
      const out = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
      let n = 0;
      for await (const c of out.Body as AsyncIterable<Uint8Array>) n += c.length;
      if (n !== object.length) throw new Error('short GET');
    });
    const put = await timed(() => {
      const res = spawnSync('sftp', ['-b', batchFile, ...sshd.opensshClientArgs()], {
        encoding: 'utf8',
      });
      if (res.status !== 0) throw new Error(`sftp failed: ${res.stderr}`);
    });
    const baseline = get.ms + put.ms;
    const runs = [{ label: 'this', bundle: join(work, 'index.mjs') }];
    // Alternating which bundle goes first, so neither always runs on the warmer machine.
    if (COMPARE_BUNDLE !== undefined) {
      const other = { label: 'compare', bundle: COMPARE_BUNDLE };
      if (round % 2 === 1) runs.push(other);
      else runs.unshift(other);
    }
    for (const { label, bundle } of runs) {
      const r = await runHandler(bundle, `${key}-${round}-${label}`);
      rows.push({
        round,
        bundle: label,
        get_ms: get.ms,
        sftp_put_ms: put.ms,
        handler_ms: r.ms,
        handler_cpu_ms: r.cpu,
        ratio: r.ms / baseline,
        peak_rss_mb: r.peak,
        init_ms: r.init,
      });
      if (label === 'this') ratios.push({ ratio: r.ms / baseline, peak: r.peak, init: r.init });
    }
  }
  printTable(rows);
  process.stdout.write(
    `object ${(object.length / 1048576).toFixed(1)} MB, CSV ${(csvBytes / 1048576).toFixed(1)} MB (converted in-process from memory in ${convert.ms.toFixed(0)} ms), zip ${(built.zipBytes / 1048576).toFixed(2)} MB; best round reported\n`,
  );
  const best = ratios.reduce((x, y) => (y.ratio < x.ratio ? y : x));
  const compared = rows.filter((r) => r.bundle === 'compare').map((r) => Number(r.ratio));
  printBench('historical-lambda', {
    ratio_vs_get_plus_put: best.ratio,
    peak_rss_mb: Math.max(
      ...rows.filter((r) => r.bundle === 'this').map((r) => Number(r.peak_rss_mb)),
    ),
    zip_mb: built.zipBytes / 1048576,
    init_ms: best.init,
    convert_only_ms: convert.ms,
    ...(compared.length > 0 ? { compare_ratio: Math.min(...compared) } : {}),
  });
} finally {
  await Promise.all([s3peer.stop(), sshd.stop(), moto.stop()]);
  rmSync(work, { recursive: true, force: true });
}
