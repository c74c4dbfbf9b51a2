import { z } from 'zod';
import { CseError } from './errors.js';
import type { CseEnvelope } from './types.js';

/**
 * Reading the envelope the S3 Encryption Client stores in the object's metadata (or in the
 * `<key>.instruction` object); see docs/operations/historical-feed.md#client-side-encryption.
 */

const GCM = 'AES/GCM/NoPadding';
const CBC = 'AES/CBC/PKCS5Padding';

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'not base64');

/** Lower-cases metadata keys and strips an `x-amz-meta-` prefix (raw HTTP headers carry it). */
function normalize(metadata: Readonly<Record<string, string | undefined>>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(metadata)) {
    if (v === undefined) continue;
    const key = k.toLowerCase().replace(/^x-amz-meta-/, '');
    out.set(key, v);
  }
  return out;
}

/**
 * Whether the metadata marks a client-side encrypted object (v2 `x-amz-key-v2` or v1
 * `x-amz-key`).
 *
 * @example
 * isEncrypted({ 'x-amz-key-v2': '...', 'x-amz-iv': '...' }); // true
 */
export function isEncrypted(metadata: Readonly<Record<string, string | undefined>>): boolean {
  const m = normalize(metadata);
  return m.has('x-amz-key-v2') || m.has('x-amz-key');
}

/**
 * Whether the object says its envelope is in a separate `<key>.instruction` object
 * (`x-amz-crypto-instr-file` metadata, as the Java and Go clients write it).
 *
 * @example
 * hasInstructionFile({ 'x-amz-crypto-instr-file': '' }); // true
 */
export function hasInstructionFile(
  metadata: Readonly<Record<string, string | undefined>>,
): boolean {
  return normalize(metadata).has('x-amz-crypto-instr-file');
}

/**
 * Parses the envelope of a client-side encrypted object, or returns `undefined` when the metadata
 * holds none (plaintext, or SSE which S3 already removed).
 *
 * @throws {@link CseError} `INVALID_ENVELOPE` when the envelope is present but unusable.
 * @example
 * const envelope = parseEnvelope(head.Metadata ?? {}, 's3://bucket/key');
 * if (envelope) console.log(envelope.version, envelope.contentAlgorithm);
 */
export function parseEnvelope(
  metadata: Readonly<Record<string, string | undefined>>,
  objectName: string,
): CseEnvelope | undefined {
  const m = normalize(metadata);
  const v2 = m.get('x-amz-key-v2');
  const v1 = m.get('x-amz-key');
  if (v2 === undefined && v1 === undefined) return undefined;
  const problems: string[] = [];
  const version: 1 | 2 = v2 !== undefined ? 2 : 1;
  const wrapped = (v2 ?? v1) as string;
  if (!base64.safeParse(wrapped).success || wrapped.length === 0) {
    problems.push(`${version === 2 ? 'x-amz-key-v2' : 'x-amz-key'} is not base64`);
  }
  const ivText = m.get('x-amz-iv');
  if (ivText === undefined) problems.push('x-amz-iv is missing');
  else if (!base64.safeParse(ivText).success) problems.push('x-amz-iv is not base64');
  const cek = m.get('x-amz-cek-alg') ?? CBC;
  if (cek !== GCM && cek !== CBC) problems.push(`x-amz-cek-alg "${cek}" is not supported`);
  const wrap = m.get('x-amz-wrap-alg') ?? (version === 1 ? 'kms' : undefined);
  if (wrap !== 'kms' && wrap !== 'kms+context') {
    problems.push(
      `x-amz-wrap-alg "${wrap ?? '(missing)'}" is not supported (only KMS-wrapped keys: kms, kms+context)`,
    );
  }
  let matdesc: Record<string, string> = {};
  const matText = m.get('x-amz-matdesc') ?? '{}';
  try {
    const parsed = z.record(z.string(), z.string()).safeParse(JSON.parse(matText));
    if (parsed.success) matdesc = parsed.data;
    else problems.push('x-amz-matdesc is not a JSON object of strings');
  } catch {
    problems.push('x-amz-matdesc is not JSON');
  }
  const tagBits = Number(m.get('x-amz-tag-len') ?? '128');
  if (cek === GCM && tagBits !== 128)
    problems.push(`x-amz-tag-len ${tagBits} is not supported (128 only)`);
  const iv = ivText === undefined ? Buffer.alloc(0) : Buffer.from(ivText, 'base64');
  if (ivText !== undefined && cek === GCM && iv.length !== 12) {
    problems.push(`x-amz-iv holds ${iv.length} bytes; AES/GCM needs 12`);
  }
  if (ivText !== undefined && cek === CBC && iv.length !== 16) {
    problems.push(`x-amz-iv holds ${iv.length} bytes; AES/CBC needs 16`);
  }
  if (wrap === 'kms+context') {
    const declared = matdesc['aws:x-amz-cek-alg'];
    if (declared !== cek) {
      problems.push(
        `x-amz-matdesc "aws:x-amz-cek-alg" (${declared ?? 'missing'}) does not match x-amz-cek-alg (${cek})`,
      );
    }
  }
  if (problems.length > 0) {
    throw new CseError(
      'INVALID_ENVELOPE',
      objectName,
      `unusable client-side encryption envelope: ${problems.join('; ')}`,
    );
  }
  const plainLength = m.get('x-amz-unencrypted-content-length');
  return {
    version,
    encryptedDataKey: Buffer.from(wrapped, 'base64'),
    iv,
    contentAlgorithm: cek === GCM ? 'AES/GCM/NoPadding' : 'AES/CBC/PKCS5Padding',
    wrapAlgorithm: wrap === 'kms+context' ? 'kms+context' : 'kms',
    materialsDescription: matdesc,
    ...(plainLength !== undefined && /^\d+$/.test(plainLength)
      ? { unencryptedContentLength: Number(plainLength) }
      : {}),
  };
}
