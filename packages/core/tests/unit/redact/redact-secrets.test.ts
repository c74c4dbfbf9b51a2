import fc from 'fast-check';
import { REDACTED, redactSecrets, SUBSTRING_REDACTION_MIN } from '../../../src/index.js';

const secretArb = fc
  .string({ minLength: 6, maxLength: 40 })
  .filter((s) => !/[[\]]/.test(s) && !'redacted'.includes(s));

describe('redactSecrets', () => {
  it('removes every raw, JSON-escaped and URL-encoded occurrence (any length with wholeTokenBelow 0)', () => {
    fc.assert(
      fc.property(secretArb, fc.array(fc.string(), { maxLength: 5 }), (secret, parts) => {
        const forms = [secret, JSON.stringify(secret).slice(1, -1), encodeURIComponent(secret)];
        const text = parts.map((p, i) => `${p}${forms[i % 3]}`).join(' ');

        const out = redactSecrets(text, [secret], { wholeTokenBelow: 0 });

        expect(out).not.toContain(secret);
        if (parts.length > 0) expect(out).toContain(REDACTED);
      }),
    );
  });

  it('removes long secrets inside words with the default options', () => {
    fc.assert(
      fc.property(
        secretArb.filter((s) => s.length >= SUBSTRING_REDACTION_MIN),
        fc.string(),
        fc.string(),
        (secret, before, after) => {
          const out = redactSecrets(`${before}x${secret}x${after}`, [secret]);

          expect(out).not.toContain(secret);
          expect(out).toContain(`x${REDACTED}x`);
        },
      ),
    );
  });

  it('replaces the JSON-escaped and the URL-encoded form', () => {
    const secret = 'pa"ss\\wo rd/&1';
    const json = JSON.stringify({ password: secret });
    const url = `https://h/login?password=${encodeURIComponent(secret)}&x=1`;

    expect(redactSecrets(json, [secret])).toBe('{"password":"[redacted]"}');
    expect(redactSecrets(url, [secret])).toBe('https://h/login?password=[redacted]&x=1');
    expect(redactSecrets(`raw ${secret} end`, [secret])).toBe('raw [redacted] end');
  });

  it('replaces a short secret only where it stands as a whole token', () => {
    const text = 'Upload of "a.csv" to sftp://h:22/up failed: server said p';

    expect(redactSecrets(text, ['p'])).toBe(
      'Upload of "a.csv" to sftp://h:22/up failed: server said [redacted]',
    );
    expect(redactSecrets('a-x-a', ['a'])).toBe('[redacted]-x-[redacted]');
    expect(redactSecrets('password=hunter', ['hunter'])).toBe('password=[redacted]');
    expect(redactSecrets('hunter_x 1hunter hunterX', ['hunter'])).toBe('hunter_x 1hunter hunterX');
  });

  it('counts a JSON or URL escape just before a short secret as the end of the previous token', () => {
    expect(redactSecrets(JSON.stringify({ msg: 'login failed\npw1234\nbye' }), ['pw1234'])).toBe(
      '{"msg":"login failed\\n[redacted]\\nbye"}',
    );
    expect(redactSecrets('a\\tpw1234 b\\u00e9pw1234 c%20pw1234%21', ['pw1234'])).toBe(
      'a\\t[redacted] b\\u00e9[redacted] c%20[redacted]%21',
    );
    expect(redactSecrets('xpw1234 pw1234y %2pw1234', ['pw1234'])).toBe('xpw1234 pw1234y %2pw1234');
  });

  it('treats letters and digits of any script as part of a word next to a short secret', () => {
    expect(redactSecrets('épw pwß пwpw pw٣ 中pw', ['pw'])).toBe('épw pwß пwpw pw٣ 中pw');
    expect(redactSecrets('«pw» (pw) pw。pw—x', ['pw'])).toBe(
      '«[redacted]» ([redacted]) [redacted]。[redacted]—x',
    );
  });

  it('applies the whole-token rule to the encoded forms of a short secret too', () => {
    expect(redactSecrets('q=p%40s&r=xp%40s', ['p@s'])).toBe('q=[redacted]&r=xp%40s');
    expect(redactSecrets('{"k":"a\\"b"}', ['a"b'])).toBe('{"k":"[redacted]"}');
  });

  it('honours wholeTokenBelow and refuses a value that is not a non-negative integer', () => {
    expect(redactSecrets('Upload', ['p'], { wholeTokenBelow: 0 })).toBe(`U${REDACTED}load`);
    expect(redactSecrets('xhunter2-longx', ['hunter2-long'], { wholeTokenBelow: 20 })).toBe(
      'xhunter2-longx',
    );
    expect(redactSecrets(`x ${'hunter2-long'} x`, ['hunter2-long'], { wholeTokenBelow: 20 })).toBe(
      'x [redacted] x',
    );
    expect(() => redactSecrets('x', ['x'], { wholeTokenBelow: -1 })).toThrow(RangeError);
    expect(() => redactSecrets('x', ['x'], { wholeTokenBelow: Number.NaN })).toThrow(
      'wholeTokenBelow must be a non-negative integer, got NaN',
    );
  });

  it('redacts the longer of two overlapping secrets whole, whichever comes first', () => {
    const inner = 'abcdefgh';
    const outer = 'abcdefgh-ijklmnop';

    expect(redactSecrets(`k=${outer};`, [inner, outer])).toBe('k=[redacted];');
    expect(redactSecrets(`k=${outer};`, [outer, inner])).toBe('k=[redacted];');
    expect(redactSecrets(`k=${outer}; j=${inner}`, [inner, outer])).toBe(
      'k=[redacted]; j=[redacted]',
    );
  });

  it('redacts a long secret that contains a short one whole', () => {
    expect(redactSecrets('user bob pass bob-and-alice', ['bob', 'bob-and-alice'])).toBe(
      'user [redacted] pass [redacted]',
    );
  });

  it('ignores empty secrets and returns the text unchanged when nothing occurs', () => {
    const text = 'nothing to see here';

    expect(redactSecrets(text, [''])).toBe(text);
    expect(redactSecrets(text, ['', 'here-long-secret'])).toBe(text);
    expect(redactSecrets(text, [])).toBe(text);
    expect(redactSecrets('see here', ['', 'here'])).toBe('see [redacted]');
  });

  it('handles a secret with a lone surrogate, which has no URL-encoded form', () => {
    const secret = 'ab\uD800cdefghij';

    expect(redactSecrets(`x ${secret} ${JSON.stringify(secret)}`, [secret])).toBe(
      'x [redacted] "[redacted]"',
    );
  });

  it('escapes regular-expression characters in a short secret', () => {
    expect(redactSecrets('a.b axb', ['a.b'])).toBe('[redacted] axb');
    expect(redactSecrets('(x) x', ['(x)'])).toBe('[redacted] x');
  });
});
