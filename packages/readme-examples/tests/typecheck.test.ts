// The runnable README examples type-check as a user's strict TypeScript program would (tsx, which
// runs them, strips types without checking them): all of them in one `tsc` run, with the
// repository's compiler options (`exactOptionalPropertyTypes` included, the strictest a user may
// have: `password: process.env.SFTP_PASSWORD` must compile) and the workspace packages resolved
// from their sources.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, readmeBlocks, readmePackages } from './support.js';

describe('README examples type-check', () => {
  it('every runnable example compiles under the repository settings', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cwfm-readme-tsc-'));
    try {
      symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'));
      const files: string[] = [];
      for (const pkg of readmePackages()) {
        for (const example of readmeBlocks(pkg).runnable) {
          const name = `${pkg}-${example.index}.mts`;
          // `export {}` keeps each example a module of its own (no clashes between examples).
          writeFileSync(join(dir, name), `${example.code}\nexport {};\n`);
          files.push(name);
        }
      }
      expect(files.length).toBeGreaterThan(10);
      writeFileSync(
        join(dir, 'tsconfig.json'),
        JSON.stringify({
          extends: join(REPO, 'tsconfig.base.json'),
          compilerOptions: {
            noEmit: true,
            declaration: false,
            declarationMap: false,
          },
          files,
        }),
      );
      const tsc = spawnSync(
        process.execPath,
        [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', join(dir, 'tsconfig.json')],
        { cwd: dir, encoding: 'utf8', timeout: 240_000 },
      );
      expect({ status: tsc.status, out: `${tsc.stdout}${tsc.stderr}` }).toEqual({
        status: 0,
        out: '',
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
