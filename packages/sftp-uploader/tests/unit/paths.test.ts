import fc from 'fast-check';
import { directoryChain, fileNameProblem, remoteTarget, siblingName } from '../../src/paths.js';

describe('file names', () => {
  it.each([
    ['', 'empty'],
    ['/etc/passwd', 'absolute'],
    ['a/../b.csv', '".." segment'],
    ['./a.csv', '"." segment'],
    ['a//b.csv', 'empty path segment'],
    ['dir/', 'ends with'],
    ['a\0b', 'NUL'],
  ])('refuses %j (%s)', (name, why) => {
    expect(fileNameProblem(name)).toContain(why);
  });

  it.each([
    ['day\r.csv', '000D'],
    ['day\n.csv', '000A'],
    ['\u001b[2Jday.csv', '001B'],
    ['a\tb.csv', '0009'],
    ['a\u007f.csv', '007F'],
    ['a\u0085.csv', '0085'],
    ['dir\u2028/a.csv', '2028'],
    ['invoice\u202egpj.exe', '202E'],
  ])('refuses %j, naming the control character', (name, code) => {
    expect(fileNameProblem(name)).toContain(`control character U+${code}`);
  });

  it('accepts names up to 255 bytes per segment (the temporary name is shortened to fit)', () => {
    expect(fileNameProblem('a'.repeat(255))).toBeUndefined();
    expect(fileNameProblem(`dir/${'é'.repeat(127)}x`)).toBeUndefined(); // 255 bytes
    expect(fileNameProblem('a'.repeat(256))).toContain('256 bytes long');
    expect(fileNameProblem(`${'d'.repeat(256)}/a.csv`)).toContain('at most 255');
  });

  it('accepts plain and nested relative names', () => {
    expect(fileNameProblem('calls.csv')).toBeUndefined();
    expect(fileNameProblem('2024/01/02/calls.csv')).toBeUndefined();
    expect(fileNameProblem('.hidden')).toBeUndefined();
  });
});

describe('remoteTarget', () => {
  it('resolves the final path and its directory', () => {
    expect(remoteTarget('/in', 'a/b.csv')).toEqual({
      dir: '/in/a',
      finalPath: '/in/a/b.csv',
      base: 'b.csv',
    });
    expect(remoteTarget('.', 'x.csv')).toEqual({ dir: '.', finalPath: 'x.csv', base: 'x.csv' });
  });

  it('keeps every accepted name inside remoteDir', () => {
    const segment = fc
      .stringMatching(/^[A-Za-z0-9._ -]{1,12}$/)
      .filter((s) => s !== '.' && s !== '..');
    fc.assert(
      fc.property(
        fc.constantFrom('/srv/in', 'inbound', '.', '/'),
        fc.array(segment, { minLength: 1, maxLength: 4 }),
        (dir, segments) => {
          const name = segments.join('/');
          expect(fileNameProblem(name)).toBeUndefined();
          const t = remoteTarget(dir, name);
          const prefix = dir === '.' ? '' : dir === '/' ? '/' : `${dir}/`;
          expect(t.finalPath.startsWith(prefix)).toBe(true);
          expect(t.base).toBe(segments[segments.length - 1]);
        },
      ),
    );
  });
});

describe('siblingName', () => {
  it('is hidden, beside the final file, unpredictable and never the old fixed pattern', () => {
    const t = remoteTarget('/in', 'a/b.csv');
    const names = new Set(Array.from({ length: 200 }, () => siblingName(t, 'part')));
    expect(names.size).toBe(200);
    for (const n of names) {
      expect(n).toMatch(/^\/in\/a\/\.b\.csv\.[A-Za-z0-9_-]{16}\.part$/);
      expect(n).not.toBe('/in/a/.b.csv.part');
    }
    expect(siblingName(t, 'prev')).toMatch(/^\/in\/a\/\.b\.csv\.[A-Za-z0-9_-]{16}\.prev$/);
  });

  it('fits 255 bytes for the longest accepted name, cut on a character boundary', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('a', 'é', '€', '😀'),
        fc.integer({ min: 1, max: 255 }),
        (ch, n) => {
          const base = ch.repeat(Math.max(1, Math.floor(n / Buffer.byteLength(ch))));
          const name = siblingName(remoteTarget('/in', base), 'part').slice('/in/'.length);
          expect(Buffer.byteLength(name)).toBeLessThanOrEqual(255);
          expect(name).not.toContain('\ufffd');
          expect(name.startsWith(`.${base.slice(0, 2)}`)).toBe(true);
        },
      ),
    );
  });
});

describe('directoryChain', () => {
  it('lists the directories to create, outermost first', () => {
    expect(directoryChain('a/b/c')).toEqual(['a', 'a/b', 'a/b/c']);
    expect(directoryChain('/srv/in/x')).toEqual(['/srv', '/srv/in', '/srv/in/x']);
    expect(directoryChain('.')).toEqual([]);
    expect(directoryChain('/')).toEqual([]);
  });
});
