import { createDecipheriv, type Decipher, type DecipherGCM } from 'node:crypto';
import { pipeline, Readable, Transform, type TransformCallback } from 'node:stream';
import { DecryptCommand, type KMSClient } from '@aws-sdk/client-kms';
import { GetObjectCommand, type GetObjectCommandOutput } from '@aws-sdk/client-s3';
import { type Logger, silentLogger } from '@connect-wfm/core';
import { hasInstructionFile, parseEnvelope } from './envelope.js';
import { CseError } from './errors.js';
import type { CseEnvelope, OpenedS3Object, OpenS3ObjectOptions } from './types.js';

/** GCM tag length in bytes (`x-amz-tag-len` 128). */
const TAG_BYTES = 16;

/** KMS errors that no retry fixes: the key, the context or the permissions are wrong. */
const PERMANENT_KMS_ERRORS = new Set([
  'InvalidCiphertextException',
  'IncorrectKeyException',
  'AccessDeniedException',
  'NotFoundException',
  'DisabledException',
  'KMSInvalidStateException',
  'InvalidKeyUsageException',
  'ValidationException',
]);

/**
 * Unwraps the data key of an envelope with KMS `Decrypt`, passing the materials description as
 * the encryption context (which is how both v1 `kms` and v2 `kms+context` clients wrapped it).
 *
 * @throws {@link CseError} `KEY_UNWRAP_FAILED` (wrong key or context: permanent) or
 *   `KMS_UNAVAILABLE` (network, throttling: retryable).
 * @example
 * const key = await decryptDataKey(kms, envelope, 's3://bucket/key');
 */
export async function decryptDataKey(
  kms: KMSClient,
  envelope: CseEnvelope,
  objectName: string,
  options: { kmsKeyId?: string | undefined; abortSignal?: AbortSignal | undefined } = {},
): Promise<Buffer> {
  let plaintext: Uint8Array | undefined;
  try {
    const out = await kms.send(
      new DecryptCommand({
        CiphertextBlob: envelope.encryptedDataKey,
        EncryptionContext: { ...envelope.materialsDescription },
        ...(options.kmsKeyId !== undefined ? { KeyId: options.kmsKeyId } : {}),
      }),
      options.abortSignal !== undefined ? { abortSignal: options.abortSignal } : {},
    );
    plaintext = out.Plaintext;
  } catch (err) {
    const name = (err as { name?: unknown }).name;
    const type = typeof name === 'string' ? name : 'Error';
    const permanent = PERMANENT_KMS_ERRORS.has(type);
    throw new CseError(
      permanent ? 'KEY_UNWRAP_FAILED' : 'KMS_UNAVAILABLE',
      objectName,
      permanent
        ? `KMS refused to unwrap the data key (${type}): the object was encrypted under another KMS key or encryption context, or the role may not use the key`
        : `KMS Decrypt failed (${type}); will succeed on retry if KMS is reachable`,
      { retryable: !permanent },
    );
  }
  const key = plaintext === undefined ? Buffer.alloc(0) : Buffer.from(plaintext);
  if (![16, 24, 32].includes(key.length)) {
    throw new CseError(
      'KEY_UNWRAP_FAILED',
      objectName,
      `KMS returned a ${key.length}-byte data key; an AES key has 16, 24 or 32 bytes`,
    );
  }
  return key;
}

/**
 * A Transform that decrypts the object body. GCM: the last 16 bytes of the body are the tag; they
 * are held back and checked in `flush`, so the stream errors (and never ends) when the object was
 * tampered with. CBC: PKCS#7 padding is checked and removed at the end.
 *
 * @example
 * await pipeline(s3Body, createDecryptStream(envelope, dataKey, 's3://b/k'), createWriteStream('plain'));
 */
export function createDecryptStream(
  envelope: CseEnvelope,
  dataKey: Buffer,
  objectName: string,
): Transform {
  const bits = dataKey.length * 8;
  return envelope.contentAlgorithm === 'AES/GCM/NoPadding'
    ? new GcmDecrypt(
        createDecipheriv(`aes-${bits}-gcm` as 'aes-256-gcm', dataKey, envelope.iv),
        objectName,
      )
    : new CbcDecrypt(createDecipheriv(`aes-${bits}-cbc`, dataKey, envelope.iv), objectName);
}

class GcmDecrypt extends Transform {
  private tail: Buffer = Buffer.alloc(0);

  constructor(
    private readonly decipher: DecipherGCM,
    private readonly objectName: string,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback): void {
    const data = this.tail.length === 0 ? chunk : Buffer.concat([this.tail, chunk]);
    if (data.length <= TAG_BYTES) {
      this.tail = data;
      callback();
      return;
    }
    const cut = data.length - TAG_BYTES;
    this.tail = Buffer.from(data.subarray(cut));
    const out = this.decipher.update(data.subarray(0, cut));
    callback(null, out.length > 0 ? out : undefined);
  }

  override _flush(callback: TransformCallback): void {
    if (this.tail.length < TAG_BYTES) {
      callback(
        new CseError(
          'TRUNCATED',
          this.objectName,
          'the encrypted body is shorter than its 16-byte GCM tag (truncated object)',
        ),
      );
      return;
    }
    try {
      this.decipher.setAuthTag(this.tail);
      const last = this.decipher.final();
      callback(null, last.length > 0 ? last : undefined);
    } catch (cause) {
      callback(
        new CseError(
          'AUTHENTICATION_FAILED',
          this.objectName,
          'the AES-GCM tag does not verify: the object was modified after encryption or its data key is wrong; nothing of it may be used',
          { cause },
        ),
      );
    }
  }
}

class CbcDecrypt extends Transform {
  private total = 0;

  constructor(
    private readonly decipher: Decipher,
    private readonly objectName: string,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback): void {
    this.total += chunk.length;
    const out = this.decipher.update(chunk);
    callback(null, out.length > 0 ? out : undefined);
  }

  override _flush(callback: TransformCallback): void {
    if (this.total === 0 || this.total % 16 !== 0) {
      callback(
        new CseError(
          'TRUNCATED',
          this.objectName,
          `the AES-CBC body holds ${this.total} bytes, not a positive multiple of 16 (truncated object)`,
        ),
      );
      return;
    }
    try {
      const last = this.decipher.final();
      callback(null, last.length > 0 ? last : undefined);
    } catch (cause) {
      callback(
        new CseError(
          'AUTHENTICATION_FAILED',
          this.objectName,
          'the AES-CBC padding is invalid: the object was modified or its data key is wrong',
          { cause },
        ),
      );
    }
  }
}

function asReadable(body: unknown, objectName: string): Readable {
  if (body instanceof Readable) return body;
  if (body !== null && typeof body === 'object' && Symbol.asyncIterator in body) {
    return Readable.from(body as AsyncIterable<Uint8Array>, { objectMode: false });
  }
  throw new CseError('READ_FAILED', objectName, 'S3 returned no readable body');
}

function s3Failure(err: unknown, objectName: string, what: string): CseError {
  const name = (err as { name?: unknown }).name;
  const type = typeof name === 'string' ? name : 'Error';
  const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  const permanent =
    type === 'NoSuchKey' || type === 'AccessDenied' || type === 'NoSuchBucket' || status === 404;
  return new CseError(
    'READ_FAILED',
    objectName,
    `${what} failed (${type}${status !== undefined ? `, HTTP ${status}` : ''})`,
    { retryable: !permanent },
  );
}

/**
 * Opens an S3 object for streaming and decrypts it on the fly when the S3 Encryption Client
 * wrote it (v2: AES-GCM with a KMS-wrapped key and encryption context; v1: AES-CBC). Plaintext and
 * SSE objects are returned as they are. Nothing is buffered beyond one chunk and the 16-byte tag.
 *
 * @throws {@link CseError} for a missing object, an unusable envelope, or a key KMS refuses.
 * @example
 * const { body, encryption } = await openS3Object({ s3, kms, bucket: 'b', key: 'ctr/1.json' });
 * await pipeline(body, createWriteStream('/tmp/1.json')); // rejects if the GCM tag is wrong
 */
export async function openS3Object(options: OpenS3ObjectOptions): Promise<OpenedS3Object> {
  const { s3, bucket, key } = options;
  const logger: Logger = options.logger ?? silentLogger;
  const objectName = `s3://${bucket}/${key}`;
  const send = options.abortSignal !== undefined ? { abortSignal: options.abortSignal } : {};
  let response: GetObjectCommandOutput;
  try {
    response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }), send);
  } catch (err) {
    throw s3Failure(err, objectName, 'GetObject');
  }
  const metadata: Record<string, string> = { ...(response.Metadata ?? {}) };
  const raw = asReadable(response.Body, objectName);
  let envelopeSource: Readonly<Record<string, string>> = metadata;
  try {
    if (
      options.instructionFile !== false &&
      !('x-amz-key-v2' in metadata) &&
      !('x-amz-key' in metadata) &&
      hasInstructionFile(metadata)
    ) {
      envelopeSource = await readInstructionFile(options, objectName);
    }
    const envelope = parseEnvelope(envelopeSource, objectName);
    const common = {
      metadata,
      contentLength: response.ContentLength,
      eTag: response.ETag,
      objectName,
    };
    if (envelope === undefined) {
      return { body: raw as Readable & AsyncIterable<Buffer>, encryption: 'none', ...common };
    }
    if (options.kms === undefined) {
      throw new CseError(
        'KEY_UNWRAP_FAILED',
        objectName,
        'the object is client-side encrypted but no KMS client was configured',
      );
    }
    logger.debug('client-side encrypted object', {
      object: objectName,
      version: envelope.version,
      algorithm: envelope.contentAlgorithm,
    });
    const dataKey = await decryptDataKey(options.kms, envelope, objectName, {
      kmsKeyId: options.kmsKeyId,
      abortSignal: options.abortSignal,
    });
    const decrypt = createDecryptStream(envelope, dataKey, objectName);
    dataKey.fill(0);
    pipeline(raw, decrypt, () => {
      // Errors reach the consumer through `decrypt` (pipeline destroys it with the error).
    });
    raw.on('error', () => {});
    return {
      body: decrypt as Transform & AsyncIterable<Buffer>,
      encryption: envelope.version === 2 ? 'v2' : 'v1',
      ...common,
    };
  } catch (err) {
    raw.destroy();
    throw err;
  }
}

async function readInstructionFile(
  options: OpenS3ObjectOptions,
  objectName: string,
): Promise<Record<string, string>> {
  const send = options.abortSignal !== undefined ? { abortSignal: options.abortSignal } : {};
  let text: string;
  try {
    const out = await options.s3.send(
      new GetObjectCommand({ Bucket: options.bucket, Key: `${options.key}.instruction` }),
      send,
    );
    text = (await out.Body?.transformToString('utf8')) ?? '';
  } catch (err) {
    throw s3Failure(err, `${objectName}.instruction`, 'GetObject of the instruction file');
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed === null || typeof parsed !== 'object') throw new Error('not an object');
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(parsed)) if (typeof v === 'string') out[k] = v;
    return out;
  } catch {
    throw new CseError(
      'INVALID_ENVELOPE',
      objectName,
      'the instruction file is not a JSON object of strings',
    );
  }
}
