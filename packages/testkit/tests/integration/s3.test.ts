import { existsSync } from 'node:fs';
import { Readable } from 'node:stream';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { type S3EventNotification, type S3Peer, seededRandom, startS3 } from '@connect-wfm/testkit';

describe('startS3 (s3rver)', () => {
  let s3: S3Peer;
  let client: S3Client;
  const events: S3EventNotification[] = [];

  beforeAll(async () => {
    s3 = await startS3({ buckets: ['ctr-bucket'], onEvent: (e) => events.push(e) });
    client = s3.client();
  });

  afterAll(async () => {
    client.destroy();
    await s3.stop();
  });

  async function getBytes(key: string, bucket = 'ctr-bucket') {
    const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return { out, bytes: Buffer.from((await out.Body?.transformToByteArray()) ?? []) };
  }

  it('round-trips binary bytes and user metadata', async () => {
    const body = Buffer.from([0, 1, 2, 0xff, 0xfe, 0x0d, 0x0a, 0x80]);
    const metadata = {
      'x-amz-key-v2': 'QUJDRA==',
      'x-amz-iv': 'MTIzNDU2Nzg5MDEy',
      'x-amz-cek-alg': 'AES/GCM/NoPadding',
    };
    await client.send(
      new PutObjectCommand({
        Bucket: 'ctr-bucket',
        Key: 'bin/object.bin',
        Body: body,
        Metadata: metadata,
      }),
    );

    const { out, bytes } = await getBytes('bin/object.bin');

    expect(bytes.equals(body)).toBe(true);
    expect(out.Metadata).toEqual(metadata);
  });

  it('round-trips a UTF-8 string byte for byte', async () => {
    const text = 'Agent Åsa → queue "Support" ✓ 日本';
    await client.send(new PutObjectCommand({ Bucket: 'ctr-bucket', Key: 'utf8.txt', Body: text }));

    const { out, bytes } = await getBytes('utf8.txt');

    expect(bytes.toString('utf8')).toBe(text);
    expect(out.ContentLength).toBe(Buffer.byteLength(text));
  });

  it('stores a streamed upload (aws-chunked with a trailing checksum) without the chunk framing', async () => {
    const rand = seededRandom(11);
    const parts = Array.from({ length: 300 }, () =>
      Buffer.from(
        Array.from({ length: 1 + Math.floor(rand() * 3000) }, () => Math.floor(rand() * 256)),
      ),
    );
    const expected = Buffer.concat(parts);
    await client.send(
      new PutObjectCommand({
        Bucket: 'ctr-bucket',
        Key: 'streamed.bin',
        Body: Readable.from(parts),
        ContentLength: expected.length,
      }),
    );

    const { out, bytes } = await getBytes('streamed.bin');

    expect(bytes.length).toBe(expected.length);
    expect(bytes.equals(expected)).toBe(true);
    expect(out.ContentEncoding).toBeUndefined();
  });

  it('assembles a multipart upload and keeps its metadata', async () => {
    const key = 'multipart.bin';
    const first = Buffer.alloc(5 * 1024 * 1024, 1);
    const { UploadId } = await client.send(
      new CreateMultipartUploadCommand({ Bucket: 'ctr-bucket', Key: key, Metadata: { m: '1' } }),
    );
    const p1 = await client.send(
      new UploadPartCommand({
        Bucket: 'ctr-bucket',
        Key: key,
        UploadId,
        PartNumber: 1,
        Body: first,
      }),
    );
    const p2 = await client.send(
      new UploadPartCommand({
        Bucket: 'ctr-bucket',
        Key: key,
        UploadId,
        PartNumber: 2,
        Body: 'tail',
      }),
    );
    await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'ctr-bucket',
        Key: key,
        UploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: p1.ETag },
            { PartNumber: 2, ETag: p2.ETag },
          ],
        },
      }),
    );

    const head = await client.send(new HeadObjectCommand({ Bucket: 'ctr-bucket', Key: key }));

    expect(head.ContentLength).toBe(first.length + 4);
    expect(head.Metadata).toEqual({ m: '1' });
  });

  it('lists objects by prefix in key order', async () => {
    await s3.createBucket('list-bucket');
    for (const key of ['2024/01/b.json', '2024/01/a.json', '2024/02/c.json', 'other.csv']) {
      await client.send(new PutObjectCommand({ Bucket: 'list-bucket', Key: key, Body: key }));
    }

    const listed = await client.send(
      new ListObjectsV2Command({ Bucket: 'list-bucket', Prefix: '2024/01/' }),
    );

    expect(listed.Contents?.map((o) => [o.Key, o.Size])).toEqual([
      ['2024/01/a.json', 14],
      ['2024/01/b.json', 14],
    ]);
  });

  it('throws NoSuchKey for a missing object', async () => {
    await expect(
      client.send(new GetObjectCommand({ Bucket: 'ctr-bucket', Key: 'missing' })),
    ).rejects.toBeInstanceOf(NoSuchKey);
  });

  it('reports created objects as S3 event records with URL-encoded keys', async () => {
    events.length = 0;
    await client.send(
      new PutObjectCommand({ Bucket: 'ctr-bucket', Key: 'in/red flower ü.json', Body: '{}' }),
    );

    const record = events[0]?.Records[0];
    expect(record?.eventName).toBe('ObjectCreated:Put');
    expect(record?.s3.bucket).toEqual({ name: 'ctr-bucket', arn: 'arn:aws:s3:::ctr-bucket' });
    expect(record?.s3.object.key).toBe('in/red+flower+%C3%BC.json');
    expect(record?.s3.object.size).toBe(2);
    expect(decodeURIComponent((record?.s3.object.key ?? '').replace(/\+/g, ' '))).toBe(
      'in/red flower ü.json',
    );
  });

  it('rejects bucket names shorter than 3 characters', async () => {
    await expect(s3.createBucket('ab')).rejects.toThrow(/invalid S3 bucket name "ab"/);
  });
});

describe('S3Peer.stop', () => {
  it('closes the port, removes the directory and can be called twice', async () => {
    const s3 = await startS3({ buckets: ['tmp-bucket'] });
    const client = s3.client({ maxAttempts: 1 });
    await client.send(new PutObjectCommand({ Bucket: 'tmp-bucket', Key: 'k', Body: 'v' }));

    await s3.stop();
    await s3.stop();

    expect(existsSync(s3.directory)).toBe(false);
    await expect(fetch(s3.endpoint)).rejects.toThrow();
    client.destroy();
  });
});
