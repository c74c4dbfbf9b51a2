import { CseError, isEncrypted, parseEnvelope } from '../../src/index.js';

const v2 = {
  'x-amz-key-v2': Buffer.from('wrapped').toString('base64'),
  'x-amz-iv': Buffer.alloc(12, 1).toString('base64'),
  'x-amz-cek-alg': 'AES/GCM/NoPadding',
  'x-amz-wrap-alg': 'kms+context',
  'x-amz-matdesc': '{"aws:x-amz-cek-alg":"AES/GCM/NoPadding"}',
  'x-amz-tag-len': '128',
};

describe('parseEnvelope', () => {
  it('returns undefined for an object without an envelope', () => {
    expect(parseEnvelope({ other: 'x' }, 's3://b/k')).toBeUndefined();
    expect(isEncrypted({ other: 'x' })).toBe(false);
  });

  it('reads a v2 envelope, with or without the x-amz-meta- prefix', () => {
    const env = parseEnvelope(v2, 's3://b/k');
    expect(env).toMatchObject({
      version: 2,
      contentAlgorithm: 'AES/GCM/NoPadding',
      wrapAlgorithm: 'kms+context',
      materialsDescription: { 'aws:x-amz-cek-alg': 'AES/GCM/NoPadding' },
    });
    const prefixed = Object.fromEntries(Object.entries(v2).map(([k, v]) => [`X-Amz-Meta-${k}`, v]));
    expect(parseEnvelope(prefixed, 's3://b/k')?.version).toBe(2);
  });

  it('reads a v1 envelope as CBC with a kms wrap when the algorithms are absent', () => {
    const env = parseEnvelope(
      {
        'x-amz-key': 'AAAA',
        'x-amz-iv': Buffer.alloc(16).toString('base64'),
        'x-amz-matdesc': '{}',
      },
      's3://b/k',
    );
    expect(env).toMatchObject({
      version: 1,
      contentAlgorithm: 'AES/CBC/PKCS5Padding',
      wrapAlgorithm: 'kms',
    });
  });

  it('lists every problem of a broken envelope in one error naming the object', () => {
    let error: unknown;
    try {
      parseEnvelope(
        {
          'x-amz-key-v2': 'AAAA',
          'x-amz-cek-alg': 'AES/CTR/NoPadding',
          'x-amz-wrap-alg': 'AESWrap',
          'x-amz-matdesc': 'not json',
        },
        's3://b/ctr/x',
      );
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CseError);
    const e = error as CseError;
    expect(e.code).toBe('INVALID_ENVELOPE');
    expect(e.message).toContain('s3://b/ctr/x');
    expect(e.message).toContain('x-amz-iv is missing');
    expect(e.message).toContain('AES/CTR/NoPadding');
    expect(e.message).toContain('AESWrap');
    expect(e.message).toContain('x-amz-matdesc is not JSON');
  });

  it('refuses a kms+context envelope whose matdesc names another content algorithm', () => {
    expect(() =>
      parseEnvelope(
        { ...v2, 'x-amz-matdesc': '{"aws:x-amz-cek-alg":"AES/CBC/PKCS5Padding"}' },
        'o',
      ),
    ).toThrow(/does not match x-amz-cek-alg/);
  });
});
