import { inspect } from 'node:util';
import { runInNewContext } from 'node:vm';
import { MAX_CAUSE_DEPTH, sanitizeCause } from '../../../src/index.js';

const KEY = 's3cr3t-key';

/** An error chain `depth + 1` errors long; the last one says `last`. */
function chainOf(depth: number, last: string): Error {
  let err = new Error(last);
  for (let i = depth - 1; i >= 0; i--) err = new Error(`level ${i}`, { cause: err });
  return err;
}

function causes(err: unknown): unknown[] {
  const out: unknown[] = [];
  let cur = err;
  while (cur instanceof Error && out.length < 50) {
    out.push(cur);
    cur = cur.cause;
  }
  return out;
}

describe('sanitizeCause', () => {
  it('leaves an error chain without the secret untouched and rebuilds one that has it', () => {
    const clean = new Error('connect ECONNREFUSED', { cause: new Error('inner') });
    const leaky = Object.assign(new Error('outer', { cause: new Error(`key was ${KEY}`) }), {
      code: 'X',
    });

    expect(sanitizeCause(clean, [KEY])).toBe(clean);
    const safe = sanitizeCause(leaky, [KEY]) as Error & { code: string };
    expect(safe).not.toBe(leaky);
    expect(safe.code).toBe('X');
    expect((safe.cause as Error).message).toBe('key was [redacted]');
    expect(String(safe.stack)).not.toContain(KEY);
    expect(String((safe.cause as Error).stack)).not.toContain(KEY);
  });

  it('keeps name, code and the redacted stack and message of a copied error', () => {
    const err = Object.assign(new TypeError(`bad password ${KEY}`), { code: `E_${KEY}` });

    const safe = sanitizeCause(err, [KEY]) as Error & { code: string };

    expect(safe.name).toBe('TypeError');
    expect(safe.message).toBe('bad password [redacted]');
    expect(safe.code).toBe('E_[redacted]');
    expect(safe.stack).toBe(String(err.stack).replace(KEY, '[redacted]'));
    expect(safe.stack).toMatch(/^TypeError: bad password \[redacted\]\n\s+at /);
  });

  it('keeps a numeric code', () => {
    const err = Object.assign(new Error(`no ${KEY}`), { code: 4 });

    expect((sanitizeCause(err, [KEY]) as { code: unknown }).code).toBe(4);
  });

  it('finds the secret anywhere down to MAX_CAUSE_DEPTH and keeps the chain length', () => {
    const err = chainOf(MAX_CAUSE_DEPTH, `deep ${KEY}`);

    const safe = sanitizeCause(err, [KEY]);

    const all = causes(safe);
    expect(all).toHaveLength(MAX_CAUSE_DEPTH + 1);
    expect((all.at(-1) as Error).message).toBe('deep [redacted]');
    expect(
      JSON.stringify(all.map((e) => [(e as Error).message, (e as Error).stack])),
    ).not.toContain(KEY);
  });

  it('cuts a chain that goes on beyond MAX_CAUSE_DEPTH, since the rest was not examined', () => {
    const err = chainOf(MAX_CAUSE_DEPTH + 3, `deepest ${KEY}`);

    const safe = sanitizeCause(err, [KEY]);

    const all = causes(safe);
    expect(all).toHaveLength(MAX_CAUSE_DEPTH + 1);
    expect('cause' in (all.at(-1) as Error)).toBe(false);
    expect(all.some((e) => (e as Error).message.includes(KEY))).toBe(false);
  });

  it('copies only down to the last error that mentions the secret', () => {
    const bottom = new Error('bottom');
    const err = new Error(`top ${KEY}`, { cause: bottom });

    const safe = sanitizeCause(err, [KEY]) as Error;

    expect(safe.message).toBe('top [redacted]');
    expect(safe.cause).toBe(bottom);
  });

  it('returns a cyclic chain without the secret as it is and redacts one with it', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    a.cause = b;
    expect(sanitizeCause(a, [KEY])).toBe(a);

    const c = new Error(`c ${KEY}`);
    const d = new Error('d', { cause: c });
    c.cause = d;
    const safe = sanitizeCause(d, [KEY]) as Error;
    const safeC = safe.cause as Error;
    expect(safeC.message).toBe('c [redacted]');
    expect(safeC.cause).toBe(safe);
  });

  it('treats an error from another realm as an error', () => {
    const foreign = runInNewContext(`new RangeError('denied for ${KEY}')`) as Error;
    expect(foreign instanceof Error).toBe(false);
    const err = new Error('outer', { cause: foreign });

    const safe = sanitizeCause(err, [KEY]) as Error;
    const safeForeign = sanitizeCause(foreign, [KEY]) as Error;

    expect((safe.cause as Error).message).toBe('denied for [redacted]');
    expect((safe.cause as Error).name).toBe('RangeError');
    expect(safeForeign.message).toBe('denied for [redacted]');
    expect(String(safeForeign.stack)).not.toContain(KEY);
  });

  it('redacts a string, or a string cause at the end of the chain', () => {
    expect(sanitizeCause(`said ${KEY}`, [KEY])).toBe('said [redacted]');
    const err = new Error('outer', { cause: `said ${KEY}` });

    const safe = sanitizeCause(err, [KEY]) as Error;

    expect(safe).not.toBe(err);
    expect(safe.cause).toBe('said [redacted]');
  });

  it('returns other values unchanged', () => {
    const obj = { message: 'not an error' };

    expect(sanitizeCause(obj, [KEY])).toBe(obj);
    expect(sanitizeCause(42, [KEY])).toBe(42);
    expect(sanitizeCause(undefined, [KEY])).toBeUndefined();
  });

  it('applies the short-token rule and its option to messages', () => {
    const err = new Error('Upload refused for p');

    expect((sanitizeCause(err, ['p']) as Error).message).toBe('Upload refused for [redacted]');
    expect((sanitizeCause(err, ['p'], { wholeTokenBelow: 0 }) as Error).message).toBe(
      'U[redacted]load refused for [redacted]',
    );
    const clean = new Error('Upload done');
    expect(sanitizeCause(clean, ['p'])).toBe(clean);
  });

  /** Everything a reader of the error could print. */
  const everything = (value: unknown) => inspect(value, { showHidden: true, depth: null });

  it('finds a secret held only in a field, and keeps nothing below the copy unsearched', () => {
    const config = { host: 'sftp.example', password: KEY };
    const err = new Error('auth failed', { cause: config });

    const safe = sanitizeCause(err, [KEY]) as Error;

    expect(safe).not.toBe(err);
    expect(typeof safe.cause).toBe('string'); // the object, as it prints, redacted
    expect(safe.cause).toContain("password: '[redacted]'");
    expect(safe.cause).toContain("host: 'sftp.example'");
    expect(everything(safe)).not.toContain(KEY);
    expect(everything(err)).toContain(KEY);
  });

  it('drops object fields of a copied error and keeps its primitive ones, redacted', () => {
    const pem = `-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFHDBOBgkqhkiG9w0BBQ0wQTApBgkqhkiG9w0BBQwwHAQI\n${KEY}\n-----END ENCRYPTED PRIVATE KEY-----\n`;
    const parse = Object.assign(new Error('Cannot parse privateKey'), {
      input: pem,
      options: { passphrase: 'hunter2-passphrase' },
      level: 'client-authentication',
      errno: -13,
      fatal: true,
    });
    const err = new Error(`auth failed for ${KEY}`, { cause: parse });

    const safe = sanitizeCause(err, [KEY, pem, 'hunter2-passphrase']) as Error;

    const copied = safe.cause as Error & Record<string, unknown>;
    expect(copied).not.toBe(parse);
    expect(copied).toMatchObject({
      message: 'Cannot parse privateKey',
      input: '[redacted]',
      level: 'client-authentication',
      errno: -13,
      fatal: true,
    });
    expect(copied.options).toBeUndefined();
    const printed = everything(safe);
    expect(printed).not.toContain('MIIFHDBOBgkqhkiG9w0BBQ0wQTApBgkqhkiG9w0BBQwwHAQI');
    expect(printed).not.toContain('hunter2-passphrase');
    expect(printed).not.toContain(KEY);
  });

  it('returns a long chain that holds no secret as it is', () => {
    const err = chainOf(MAX_CAUSE_DEPTH + 3, 'connect ECONNRESET');
    Object.assign(causes(err).at(-1) as Error, { code: 'ECONNRESET', errno: -104 });

    expect(sanitizeCause(err, [KEY])).toBe(err);
  });

  it('ignores empty secrets', () => {
    const err = new Error('anything');

    expect(sanitizeCause(err, [''])).toBe(err);
  });
});
