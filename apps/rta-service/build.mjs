// Production bundle: one ESM file with every dependency, `node dist/connect-wfm-rta.mjs`.
import { chmodSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const here = import.meta.dirname;
const outfile = join(here, 'dist', 'connect-wfm-rta.mjs');
mkdirSync(join(here, 'dist'), { recursive: true });
// Written beside and renamed, so that a daemon started meanwhile never loads half a file.
const tmp = `${outfile}.${process.pid}.tmp`;
await build({
  entryPoints: [join(here, 'src', 'bin.ts')],
  outfile: tmp,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: 'external',
  minify: true,
  keepNames: true,
  legalComments: 'eof',
  // pg's optional native binding is never used.
  external: ['pg-native'],
  // CommonJS dependencies (pino, the AWS SDK's helpers) call require() and use __dirname.
  banner: {
    js: [
      "import { createRequire as __cwfmCreateRequire } from 'node:module';",
      "import { fileURLToPath as __cwfmFileURLToPath } from 'node:url';",
      "import { dirname as __cwfmDirname } from 'node:path';",
      'const require = __cwfmCreateRequire(import.meta.url);',
      'const __filename = __cwfmFileURLToPath(import.meta.url);',
      'const __dirname = __cwfmDirname(__filename);',
    ].join('\n'),
  },
  // The workspace packages resolve to their sources, as in tests.
  tsconfig: join(here, '..', '..', 'tsconfig.base.json'),
  logLevel: 'warning',
});
chmodSync(tmp, 0o755);
renameSync(`${tmp}.map`, `${outfile}.map`);
renameSync(tmp, outfile);
console.log(`built ${outfile}`);
