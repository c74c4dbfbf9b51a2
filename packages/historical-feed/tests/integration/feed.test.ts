import {
  GetObjectTaggingCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
} from '@aws-sdk/client-s3';
import { AGENT_PERFORMANCE_COLUMNS, QUEUE_STATS_COLUMNS } from '@connect-wfm/ctr-csv-mapper';
import { type S3Peer, startS3 } from '@connect-wfm/testkit';
import { type FileUploader, HistoricalFeed } from '../../src/index.js';

/** An uploader that keeps files in memory (the SFTP path is tested in apps/historical-lambda). */
function memoryUploader(): FileUploader & { files: Map<string, string> } {
  const files = new Map<string, string>();
  return {
    files,
    async put(name, body) {
      let text = '';
      if (typeof body === 'string') text = body;
      else if (body instanceof Uint8Array) text = Buffer.from(body).toString('utf8');
      else
        for await (const c of body)
          text += typeof c === 'string' ? c : Buffer.from(c).toString('utf8');
      files.set(name, text);
      return { bytes: Buffer.byteLength(text), remotePath: name };
    },
  };
}

const ctr = (id: string, minute: string) => ({
  ContactId: id,
  Channel: 'VOICE',
  LastUpdateTimestamp: `2026-11-24T09:${minute}:00Z`,
  Agent: {
    Username: 'agent.a',
    ConnectedToAgentTimestamp: `2026-11-24T08:${minute}:10Z`,
    AgentInteractionDuration: 60,
    AfterContactWorkDuration: 5,
  },
  Queue: {
    ARN: 'arn:aws:connect:x:1:instance/i/queue/q1',
    Name: 'Q1',
    EnqueueTimestamp: `2026-11-24T08:${minute}:00Z`,
    Duration: 10,
  },
});

describe('HistoricalFeed against s3rver', () => {
  let s3peer: S3Peer;
  beforeAll(async () => {
    s3peer = await startS3({ buckets: ['bkt'] });
  });
  afterAll(async () => {
    await s3peer?.stop();
  });

  it('writes statistics partials beside the CSV and a mapped report, then tags the objects', async () => {
    const s3 = s3peer.client();
    const body = JSON.stringify(ctr('c1', '01')) + JSON.stringify(ctr('c2', '20'));
    await s3.send(new PutObjectCommand({ Bucket: 'bkt', Key: 'ctr/x/obj-1', Body: body }));
    await s3.send(
      new PutObjectTaggingCommand({
        Bucket: 'bkt',
        Key: 'ctr/x/obj-1',
        Tagging: { TagSet: [{ Key: 'owner', Value: 'wfm' }] },
      }),
    );
    await s3.send(
      new PutObjectCommand({
        Bucket: 'bkt',
        Key: 'reports/TeleoptiAgentPerformance-1.csv',
        Body: 'Agent,Interval,Agent idle time,Non-Productive Time,Online time\nagent.a,2026-11-24T08:00:00Z,600,300,1800\n',
      }),
    );
    const uploader = memoryUploader();
    const feed = new HistoricalFeed({ s3, uploader, statsOutputs: 'both', reportMode: 'mapped' });
    const ctrOutcome = await feed.processObject({
      bucket: 'bkt',
      key: 'ctr/x/obj-1',
      eventName: 'ObjectCreated:Put',
    });
    expect(ctrOutcome).toMatchObject({
      status: 'delivered',
      kind: 'ctr',
      records: 2,
      badRecords: 0,
    });
    expect([...uploader.files.keys()]).toEqual([
      'obj-1.csv',
      'obj-1.queue-stats.csv',
      'obj-1.agent-queue-stats.csv',
    ]);
    const queueStats = uploader.files.get('obj-1.queue-stats.csv') ?? '';
    expect(queueStats.split('\n')[0]).toBe(QUEUE_STATS_COLUMNS.join(','));
    expect(queueStats.trim().split('\n')).toHaveLength(1 + 2); // two 15-minute intervals
    const report = await feed.processObject({
      bucket: 'bkt',
      key: 'reports/TeleoptiAgentPerformance-1.csv',
      eventName: 'ObjectCreated:Put',
    });
    expect(report).toMatchObject({ status: 'delivered', kind: 'report' });
    expect(uploader.files.get('TeleoptiAgentPerformance-1.csv')?.split('\n')[0]).toBe(
      AGENT_PERFORMANCE_COLUMNS.join(','),
    );
    const tags = await s3.send(new GetObjectTaggingCommand({ Bucket: 'bkt', Key: 'ctr/x/obj-1' }));
    expect(Object.fromEntries((tags.TagSet ?? []).map((t) => [t.Key, t.Value]))).toMatchObject({
      owner: 'wfm',
      'connect-wfm-delivered': expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect(
      await feed.processObject({
        bucket: 'bkt',
        key: 'ctr/x/obj-1',
        eventName: 'ObjectCreated:Put',
      }),
    ).toEqual({
      status: 'already-delivered',
      object: 's3://bkt/ctr/x/obj-1',
    });
  });

  it('delivers the same CSV whatever the read-ahead, calling connect() before the upload', async () => {
    const s3 = s3peer.client();
    const records = Array.from({ length: 200 }, (_, i) =>
      JSON.stringify(ctr(`c${i}`, String(i % 60).padStart(2, '0'))),
    );
    await s3.send(
      new PutObjectCommand({ Bucket: 'bkt', Key: 'ctr/ra/obj', Body: records.join('') }),
    );
    const csvs: string[] = [];
    for (const [i, readAheadBytes] of [0, 1024, undefined].entries()) {
      const calls: string[] = [];
      const inner = memoryUploader();
      const uploader: FileUploader = {
        async connect() {
          calls.push('connect');
          return true;
        },
        put(name, body) {
          calls.push('put');
          return inner.put(name, body);
        },
      };
      const feed = new HistoricalFeed({
        s3,
        uploader,
        deliveredTag: `delivered-${i}`,
        ...(readAheadBytes !== undefined ? { readAheadBytes } : {}),
      });
      const outcome = await feed.processObject({
        bucket: 'bkt',
        key: 'ctr/ra/obj',
        eventName: 'ObjectCreated:Put',
      });
      expect(outcome).toMatchObject({ status: 'delivered', records: 200 });
      expect(calls).toEqual(['connect', 'put']);
      csvs.push(inner.files.get('obj.csv') ?? '');
    }
    expect(csvs[0]?.trim().split('\n')).toHaveLength(201);
    expect(csvs[1]).toBe(csvs[0]);
    expect(csvs[2]).toBe(csvs[0]);
  });
});
