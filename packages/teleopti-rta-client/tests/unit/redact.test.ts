import fc from 'fast-check';
import { redactSecret, sanitizeCause } from '../../src/redact.js';

const secretArb = fc
  .string({ minLength: 6, maxLength: 40 })
  .filter((s) => !/[[\]]/.test(s) && !'redacted'.includes(s));

describe('redaction of the authentication key', () => {
  it('removes every raw, JSON-escaped and URL-encoded occurrence', () => {
    fc.assert(
      fc.property(secretArb, fc.array(fc.string(), { maxLength: 5 }), (secret, parts) => {
        const forms = [secret, JSON.stringify(secret).slice(1, -1), encodeURIComponent(secret)];
        const text = parts.map((p, i) => `${p}${forms[i % 3]}`).join(' ');

        const out = redactSecret(text, secret);

        expect(out).not.toContain(secret);
        if (parts.length > 0) expect(out).toContain('[redacted]');
      }),
    );
  });

  it('leaves an error chain without the secret untouched and rebuilds one that has it', () => {
    const clean = new Error('connect ECONNREFUSED', { cause: new Error('inner') });
    const leaky = Object.assign(new Error('outer', { cause: new Error('key was s3cr3t-key') }), {
      code: 'X',
    });

    expect(sanitizeCause(clean, 's3cr3t-key')).toBe(clean);
    const safe = sanitizeCause(leaky, 's3cr3t-key') as Error & { code: string };
    expect(safe).not.toBe(leaky);
    expect(safe.code).toBe('X');
    expect((safe.cause as Error).message).toBe('key was [redacted]');
    expect(String(safe.stack)).not.toContain('s3cr3t-key');
  });
});
