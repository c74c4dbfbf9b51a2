import type { KMSClient } from '@aws-sdk/client-kms';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Logger } from '@connect-wfm/core';

/** The envelope of a client-side encrypted object. */
export interface CseEnvelope {
  /** 2 for `x-amz-key-v2`, 1 for the legacy `x-amz-key`. */
  readonly version: 1 | 2;
  /** The KMS ciphertext of the 256-bit data key. */
  readonly encryptedDataKey: Buffer;
  /** The content IV: 12 bytes for GCM, 16 for CBC. */
  readonly iv: Buffer;
  /** Content cipher. */
  readonly contentAlgorithm: 'AES/GCM/NoPadding' | 'AES/CBC/PKCS5Padding';
  /** How the data key is wrapped: `kms` (v1 clients) or `kms+context` (v2 clients). */
  readonly wrapAlgorithm: 'kms' | 'kms+context';
  /** The KMS encryption context (`x-amz-matdesc`). */
  readonly materialsDescription: Readonly<Record<string, string>>;
  /** Plaintext length, when the writer recorded it. */
  readonly unencryptedContentLength?: number;
}

/** Options of {@link openS3Object}. */
export interface OpenS3ObjectOptions {
  /** The S3 client (any region or endpoint). */
  readonly s3: S3Client;
  /** A KMS client; required only when encrypted objects are expected (an error names the object otherwise). */
  readonly kms?: KMSClient | undefined;
  /** Bucket name. */
  readonly bucket: string;
  /** Object key (decoded, not URL-encoded). */
  readonly key: string;
  /**
   * KMS key ids or ARNs the data key may be wrapped with. When set, `Decrypt` is called with
   * `KeyId` so that KMS refuses ciphertext of any other key.
   * @default undefined (any key the caller may use)
   */
  readonly kmsKeyId?: string | undefined;
  /**
   * Look for the envelope in `<key>.instruction` when the object's metadata has none but marks
   * `x-amz-crypto-instr-file`.
   * @default true
   */
  readonly instructionFile?: boolean | undefined;
  /** Aborts the S3 and KMS requests. */
  readonly abortSignal?: AbortSignal | undefined;
  /** Optional logger (debug lines only; never key material). */
  readonly logger?: Logger | undefined;
}

/** What {@link openS3Object} returns. */
export interface OpenedS3Object {
  /**
   * The plaintext as a byte stream. For an encrypted object the stream errors with a
   * `CseError` (`AUTHENTICATION_FAILED`) instead of ending when the GCM tag or CBC padding does
   * not verify: a consumer must treat what it read as final only after `end`.
   */
  readonly body: NodeJS.ReadableStream & AsyncIterable<Buffer>;
  /** `'none'` for plaintext/SSE objects, `'v1'` or `'v2'` for client-side encryption. */
  readonly encryption: 'none' | 'v1' | 'v2';
  /** The object's user metadata (as S3 returned it). */
  readonly metadata: Readonly<Record<string, string>>;
  /** The stored (ciphertext) length, when S3 gave it. */
  readonly contentLength: number | undefined;
  /** The object's ETag, when S3 gave it. */
  readonly eTag: string | undefined;
  /** `s3://bucket/key`. */
  readonly objectName: string;
}
