import { createCipheriv, randomBytes } from 'node:crypto';
import { GenerateDataKeyCommand, type KMSClient } from '@aws-sdk/client-kms';
import { SimulatorError } from './errors.js';

/**
 * Encrypts an object body before it is written, returning the body to store and the user
 * metadata (without the `x-amz-meta-` prefix) that describes the envelope.
 */
export interface ObjectEncryptor {
  encrypt(body: Buffer): Promise<{ body: Buffer; metadata: Record<string, string> }>;
}

/** Options of {@link kmsEnvelopeEncryptor}. */
export interface KmsEnvelopeEncryptorOptions {
  /** A KMS client (the caller configures region, endpoint and credentials). */
  readonly kms: KMSClient;
  /** Key id, ARN or alias of the KMS key that wraps the data keys. */
  readonly keyId: string;
}

const CEK_ALG = 'AES/GCM/NoPadding';

/**
 * The S3 encryption client's V2 envelope (the package DESIGN.md#client-side-encryption):
 * a fresh AES-256 data key per object from `kms:GenerateDataKey` with the encryption context
 * `{"aws:x-amz-cek-alg":"AES/GCM/NoPadding"}` (wrap algorithm `kms+context`), AES-GCM with a
 * 12-byte IV, the 16-byte tag appended to the ciphertext, and the metadata `x-amz-key-v2`,
 * `x-amz-iv`, `x-amz-cek-alg`, `x-amz-wrap-alg`, `x-amz-matdesc`, `x-amz-tag-len`,
 * `x-amz-unencrypted-content-length`.
 *
 * @example
 * const encryptor = kmsEnvelopeEncryptor({ kms: new KMSClient({}), keyId: 'alias/ctr' });
 * const { body, metadata } = await encryptor.encrypt(Buffer.from('{"ContactId":"c1"}'));
 */
export function kmsEnvelopeEncryptor(options: KmsEnvelopeEncryptorOptions): ObjectEncryptor {
  return {
    async encrypt(body) {
      const context = { 'aws:x-amz-cek-alg': CEK_ALG };
      let key: Uint8Array | undefined;
      let wrapped: Uint8Array | undefined;
      try {
        const out = await options.kms.send(
          new GenerateDataKeyCommand({
            KeyId: options.keyId,
            KeySpec: 'AES_256',
            EncryptionContext: context,
          }),
        );
        key = out.Plaintext;
        wrapped = out.CiphertextBlob;
      } catch (err) {
        throw new SimulatorError(
          'encryption-failed',
          `kms:GenerateDataKey failed for key ${options.keyId}`,
          { cause: err, retryable: true },
        );
      }
      if (key === undefined || wrapped === undefined || key.length !== 32) {
        throw new SimulatorError(
          'encryption-failed',
          `kms:GenerateDataKey for key ${options.keyId} returned no 32-byte data key`,
        );
      }
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const sealed = Buffer.concat([cipher.update(body), cipher.final(), cipher.getAuthTag()]);
      return {
        body: sealed,
        metadata: {
          'x-amz-key-v2': Buffer.from(wrapped).toString('base64'),
          'x-amz-iv': iv.toString('base64'),
          'x-amz-cek-alg': CEK_ALG,
          'x-amz-wrap-alg': 'kms+context',
          'x-amz-matdesc': JSON.stringify(context),
          'x-amz-tag-len': '128',
          'x-amz-unencrypted-content-length': String(body.length),
        },
      };
    },
  };
}
