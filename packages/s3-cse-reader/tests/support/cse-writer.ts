import { createCipheriv, randomBytes } from 'node:crypto';
import { GenerateDataKeyCommand, type KMSClient } from '@aws-sdk/client-kms';

/**
 * Encrypts a body the way the S3 Encryption Client does, for tests and benchmarks: v2 (AES-GCM,
 * `kms+context`, tag appended) or v1 (AES-CBC with PKCS#7, `kms`, `x-amz-key`). Returns the
 * stored body and the user metadata to put with it.
 */
export async function encryptLikeS3Client(
  kms: KMSClient,
  keyId: string,
  plaintext: Buffer,
  version: 1 | 2 = 2,
): Promise<{ body: Buffer; metadata: Record<string, string> }> {
  const cekAlg = version === 2 ? 'AES/GCM/NoPadding' : 'AES/CBC/PKCS5Padding';
  const context: Record<string, string> =
    version === 2 ? { 'aws:x-amz-cek-alg': cekAlg } : { kms_cmk_id: keyId };
  const out = await kms.send(
    new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256', EncryptionContext: context }),
  );
  const dataKey = Buffer.from(out.Plaintext as Uint8Array);
  const wrapped = Buffer.from(out.CiphertextBlob as Uint8Array).toString('base64');
  if (version === 2) {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', dataKey, iv);
    const body = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    return {
      body,
      metadata: {
        'x-amz-key-v2': wrapped,
        'x-amz-iv': iv.toString('base64'),
        'x-amz-cek-alg': cekAlg,
        'x-amz-wrap-alg': 'kms+context',
        'x-amz-matdesc': JSON.stringify(context),
        'x-amz-tag-len': '128',
        'x-amz-unencrypted-content-length': String(plaintext.length),
      },
    };
  }
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-256-cbc', dataKey, iv);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return {
    body,
    metadata: {
      'x-amz-key': wrapped,
      'x-amz-iv': iv.toString('base64'),
      'x-amz-matdesc': JSON.stringify(context),
      'x-amz-unencrypted-content-length': String(plaintext.length),
    },
  };
}
