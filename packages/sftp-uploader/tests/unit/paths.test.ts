import fc from 'fast-check';
import { directoryChain, fileNameProblem, remoteTarget } from '../../src/paths.js';

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

  it('refuses a name whose temporary ".<name>.part" would exceed 255 bytes, up front', () => {
    expect(fileNameProblem('a'.repeat(249))).toBeUndefined();
    expect(fileNameProblem(`dir/${'é'.repeat(124)}x`)).toBeUndefined(); // 249 bytes
    expect(fileNameProblem('a'.repeat(250))).toContain('at most 249 fit');
    expect(fileNameProblem(`dir/${'é'.repeat(125)}`)).toContain('250 bytes long');
    expect(fileNameProblem(`${'d'.repeat(256)}/a.csv`)).toContain('at most 255');
  });

  it('accepts plain and nested relative names', () => {
    expect(fileNameProblem('calls.csv')).toBeUndefined();
    expect(fileNameProblem('2024/01/02/calls.csv')).toBeUndefined();
    expect(fileNameProblem('.hidden')).toBeUndefined();
  });
});

describe('remoteTarget', () => {
  it('puts the hidden temporary file beside the final file', () => {
    expect(remoteTarget('/in', 'a/b.csv')).toEqual({
      dir: '/in/a',
      finalPath: '/in/a/b.csv',
      tempPath: '/in/a/.b.csv.part',
    });
    expect(remoteTarget('.', 'x.csv')).toEqual({
      dir: '.',
      finalPath: 'x.csv',
      tempPath: '.x.csv.part',
    });
  });

  it('keeps every accepted name inside remoteDir, temp and final in one directory', () => {
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
          expect(t.finalPath.endsWith(segments[segments.length - 1] as string)).toBe(true);
          expect(t.tempPath).toBe(
            `${t.dir === '.' ? '' : t.dir === '/' ? '/' : `${t.dir}/`}.${segments[segments.length - 1]}.part`,
          );
          expect(t.tempPath).not.toBe(t.finalPath);
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
