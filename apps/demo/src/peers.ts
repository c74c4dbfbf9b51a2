/**
 * The demo's embedded peers on 127.0.0.1: kinesalite, s3rver (with S3 → SQS notifications), the
 * SQS and KMS endpoints, the Teleopti RTA receiver, the WFM's SFTP server (OpenSSH when installed,
 * otherwise the testkit's ssh2 server) and moto holding the SFTP password.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import {
  type KinesaliteServer,
  type KmsPeer,
  type MotoServer,
  type RtaReceiver,
  type S3Peer,
  type SftpServer,
  type SqsPeer,
  startKinesalite,
  startKms,
  startMoto,
  startRtaReceiver,
  startS3,
  startSftpServer,
  startSqs,
  startSshd,
} from '@connect-wfm/testkit';

export const BUCKET = 'connect-data';
export const QUEUE = 'connect-data-events';
export const STREAM = 'agent-events';
export const SFTP_SECRET_ID = 'wfm/sftp';
const SSHD = '/usr/sbin/sshd';

/**
 * Which SFTP server the demo runs: `openssh` (the testkit's real `sshd`), `ssh2` (the testkit's
 * in-process ssh2 server) or `auto` (OpenSSH when `/usr/sbin/sshd` exists, otherwise ssh2).
 */
export type SftpChoice = 'auto' | 'openssh' | 'ssh2';

/** The WFM's SFTP server, whichever implementation runs it. */
export interface DemoSftp {
  readonly kind: 'openssh' | 'ssh2';
  readonly host: string;
  readonly port: number;
  readonly username: string;
  readonly password: string;
  readonly hostKeySha256: string;
  /** Local directory where delivered files land. */
  readonly root: string;
  /** The remote directory to give the uploader (same place as {@link DemoSftp.root}). */
  readonly remoteDir: string;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** Everything {@link startPeers} started. */
export interface DemoPeers {
  readonly kinesis: KinesaliteServer;
  readonly s3: S3Peer;
  readonly sqs: SqsPeer;
  readonly kms: KmsPeer;
  readonly receiver: RtaReceiver;
  /** The RTA receiver's authentication key. */
  readonly authKey: string;
  /** The SFTP server, when the historical feed is wired. */
  readonly sftp: DemoSftp | undefined;
  /** moto holding {@link SFTP_SECRET_ID}, when the historical feed is wired. */
  readonly moto: MotoServer | undefined;
  /** Stops every peer. */
  stop(): Promise<void>;
}

/** Reads the SFTP choice from `DEMO_SFTP` (`auto` when unset). */
export function sftpChoiceFromEnv(env: NodeJS.ProcessEnv = process.env): SftpChoice {
  const v = env.DEMO_SFTP ?? 'auto';
  if (v === 'auto' || v === 'openssh' || v === 'ssh2') return v;
  throw new Error(`DEMO_SFTP must be auto, openssh or ssh2, not "${v}"`);
}

async function startSftp(choice: SftpChoice, notes: string[]): Promise<DemoSftp> {
  if (choice === 'openssh' || (choice === 'auto' && existsSync(SSHD))) {
    try {
      const sshd = await startSshd();
      return demoSftp('openssh', sshd, sshd.root);
    } catch (err) {
      if (choice === 'openssh') throw err;
      notes.push(
        `OpenSSH did not start (${(err as Error).message.split('\n')[0]}): using the ssh2 SFTP server.`,
      );
    }
  }
  const server = await startSftpServer();
  return demoSftp('ssh2', server, server.remoteDir);
}

/** The part of both servers the demo uses. */
type SftpLike = Pick<
  SftpServer,
  'host' | 'port' | 'username' | 'password' | 'hostKeySha256' | 'root' | 'restart' | 'stop'
>;

function demoSftp(kind: DemoSftp['kind'], server: SftpLike, remoteDir: string): DemoSftp {
  return {
    kind,
    host: server.host,
    port: server.port,
    username: server.username,
    password: server.password,
    hostKeySha256: server.hostKeySha256,
    root: server.root,
    remoteDir,
    restart: () => server.restart(),
    stop: () => server.stop(),
  };
}

/** The SFTP server and moto holding its password; a failure is a note (nothing then). */
async function startHistoricalPeers(
  choice: SftpChoice,
  notes: string[],
): Promise<{ sftp: DemoSftp | undefined; moto: MotoServer | undefined }> {
  const [sftp, moto] = await Promise.allSettled([startSftp(choice, notes), startMoto()]);
  if (sftp.status === 'rejected') {
    notes.push(
      `SFTP server not started (${(sftp.reason as Error).message.split('\n')[0]}): the historical feed is not wired.`,
    );
  }
  let failure: unknown = moto.status === 'rejected' ? moto.reason : undefined;
  if (sftp.status === 'fulfilled' && moto.status === 'fulfilled') {
    try {
      await moto.value.createSecret(
        SFTP_SECRET_ID,
        JSON.stringify({ password: sftp.value.password }),
      );
      return { sftp: sftp.value, moto: moto.value };
    } catch (err) {
      failure = err;
    }
  }
  if (failure !== undefined) {
    notes.push(
      `moto (python3 -m moto.server) not available for the SFTP secret (${(failure as Error).message.split('\n')[0]}): the historical feed is not wired.`,
    );
  }
  if (sftp.status === 'fulfilled') await sftp.value.stop().catch(() => {});
  if (moto.status === 'fulfilled') await moto.value.stop().catch(() => {});
  return { sftp: undefined, moto: undefined };
}

/**
 * Starts the peers. With `historical`, also the SFTP server and moto (a failure of either is a
 * note: the historical feed is then not wired).
 *
 * @example
 * const notes: string[] = [];
 * const peers = await startPeers({ historical: true, sftp: 'auto', notes, log: console.log });
 * await peers.stop();
 */
export async function startPeers(options: {
  readonly historical: boolean;
  readonly sftp: SftpChoice;
  readonly notes: string[];
  readonly log: (line: string) => void;
}): Promise<DemoPeers> {
  const { notes, log } = options;
  const authKey = randomBytes(18).toString('base64url');
  // the SFTP server and moto (a Python process, the slowest to start) start alongside the rest
  const historical = options.historical
    ? startHistoricalPeers(options.sftp, notes)
    : Promise.resolve({ sftp: undefined, moto: undefined });
  const [kinesis, sqs, kms, receiver] = await Promise.all([
    startKinesalite({ childProcess: true }),
    startSqs({ queues: [QUEUE] }),
    startKms({ keys: ['ctr'] }),
    startRtaReceiver({ authenticationKey: authKey, sourceIds: ['1'] }),
  ]);
  const s3 = await startS3({
    buckets: [BUCKET],
    onEvent: (e) => {
      const r = e.Records[0];
      if (r === undefined || !r.eventName.startsWith('ObjectCreated')) return;
      const key = decodeURIComponent(r.s3.object.key.replace(/\+/g, ' '));
      if (key.startsWith('ctr/') || key.startsWith('reports/')) {
        sqs.enqueue(QUEUE, JSON.stringify(e));
      }
    },
  });
  await kinesis.createStream(STREAM, 2);
  log(
    `peers: kinesalite ${kinesis.endpoint}, s3rver ${s3.endpoint}, SQS ${sqs.endpoint}, KMS ${kms.endpoint}, WFM ${receiver.url}`,
  );
  const { sftp, moto } = await historical;
  if (sftp !== undefined) {
    log(`SFTP: ${sftp.kind} server on 127.0.0.1:${sftp.port}, files land in ${sftp.root}`);
  }
  return {
    kinesis,
    s3,
    sqs,
    kms,
    receiver,
    authKey,
    sftp,
    moto,
    async stop() {
      await moto?.stop().catch(() => {});
      await sftp?.stop().catch(() => {});
      await Promise.all([kinesis.stop(), s3.stop(), sqs.stop(), kms.stop(), receiver.stop()]);
    },
  };
}
