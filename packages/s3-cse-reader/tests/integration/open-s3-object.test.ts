import { PutObjectCommand } from '@aws-sdk/client-s3';
import { type KmsPeer, type S3Peer, startKms, startS3 } from '@connect-wfm/testkit';
import { CseError, openS3Object } from '../../src/index.js';
import { encryptLikeS3Client } from '../support/cse-writer.js';

async function collect(body: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of body) parts.push(chunk);
  return Buffer.concat(parts);
}

describe('openS3Object against s3rver and the KMS endpoint', () => {
  let s3peer: S3Peer;
  let kmsPeer: KmsPeer;
  const plaintext = Buffer.from(
    `${'{"ContactId":"c1","Channel":"VOICE"}'.repeat(5000)}ünïcode tail`,
    'utf8',
  );

  beforeAll(async () => {
    s3peer = await startS3({ buckets: ['cse'] });
    kmsPeer = await startKms({ keys: ['ctr', 'other'] });
  });
  afterAll(async () => {
    await s3peer?.stop();
    await kmsPeer?.stop();
  });

  async function put(key: string, body: Buffer, metadata: Record<string, string> = {}) {
    await s3peer
      .client()
      .send(new PutObjectCommand({ Bucket: 'cse', Key: key, Body: body, Metadata: metadata }));
  }

  it('streams a plaintext object unchanged', async () => {
    await put('plain.json', plaintext);
    const opened = await openS3Object({ s3: s3peer.client(), bucket: 'cse', key: 'plain.json' });
    expect(opened.encryption).toBe('none');
    expect((await collect(opened.body)).equals(plaintext)).toBe(true);
  });

  it.each([1, 2] as const)(
    'decrypts a v%s object written like the S3 Encryption Client',
    async (v) => {
      const kms = kmsPeer.client();
      const { body, metadata } = await encryptLikeS3Client(
        kms,
        kmsPeer.keys[0]!.keyId,
        plaintext,
        v,
      );
      await put(`v${v}.json`, body, metadata);
      const opened = await openS3Object({
        s3: s3peer.client(),
        kms,
        bucket: 'cse',
        key: `v${v}.json`,
      });
      expect(opened.encryption).toBe(v === 2 ? 'v2' : 'v1');
      expect((await collect(opened.body)).equals(plaintext)).toBe(true);
    },
  );

  it('errors the stream, never ending it, when one ciphertext byte was changed', async () => {
    const kms = kmsPeer.client();
    const { body, metadata } = await encryptLikeS3Client(kms, kmsPeer.keys[0]!.keyId, plaintext, 2);
    body[100] = (body[100] as number) ^ 1;
    await put('tampered.json', body, metadata);
    const opened = await openS3Object({
      s3: s3peer.client(),
      kms,
      bucket: 'cse',
      key: 'tampered.json',
    });
    const error = await collect(opened.body).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CseError);
    expect((error as CseError).code).toBe('AUTHENTICATION_FAILED');
    expect((error as CseError).message).toContain('s3://cse/tampered.json');
  });

  it('fails with KEY_UNWRAP_FAILED when the key was wrapped under another encryption context', async () => {
    const kms = kmsPeer.client();
    const { body, metadata } = await encryptLikeS3Client(kms, kmsPeer.keys[0]!.keyId, plaintext, 2);
    // A v2 envelope whose matdesc lost its context entry: KMS refuses the unwrap.
    await put('wrong-context.json', body, {
      ...metadata,
      'x-amz-wrap-alg': 'kms',
      'x-amz-matdesc': '{}',
    });
    await expect(
      openS3Object({ s3: s3peer.client(), kms, bucket: 'cse', key: 'wrong-context.json' }),
    ).rejects.toMatchObject({ code: 'KEY_UNWRAP_FAILED', retryable: false });
  });

  it('refuses a key other than the configured one', async () => {
    const kms = kmsPeer.client();
    const { body, metadata } = await encryptLikeS3Client(kms, kmsPeer.keys[0]!.keyId, plaintext, 2);
    await put('other-key.json', body, metadata);
    await expect(
      openS3Object({
        s3: s3peer.client(),
        kms,
        bucket: 'cse',
        key: 'other-key.json',
        kmsKeyId: kmsPeer.keys[1]!.arn,
      }),
    ).rejects.toMatchObject({ code: 'KEY_UNWRAP_FAILED' });
  });

  it('reads the envelope from the instruction file when the object points to one', async () => {
    const kms = kmsPeer.client();
    const { body, metadata } = await encryptLikeS3Client(kms, kmsPeer.keys[0]!.keyId, plaintext, 2);
    await put('instr.json', body, { 'x-amz-crypto-instr-file': '' });
    await put('instr.json.instruction', Buffer.from(JSON.stringify(metadata)));
    const opened = await openS3Object({
      s3: s3peer.client(),
      kms,
      bucket: 'cse',
      key: 'instr.json',
    });
    expect(opened.encryption).toBe('v2');
    expect((await collect(opened.body)).equals(plaintext)).toBe(true);
  });

  it('names the object when it does not exist', async () => {
    await expect(
      openS3Object({ s3: s3peer.client(), bucket: 'cse', key: 'missing.json' }),
    ).rejects.toMatchObject({
      code: 'READ_FAILED',
      retryable: false,
      message: expect.stringContaining('s3://cse/missing.json'),
    });
  });
});
