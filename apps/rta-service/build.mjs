// Production bundle: one ESM file with every dependency, `node dist/connect-wfm-rta.mjs`.
import { chmodSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const here = import.meta.dirname;
const dist = join(here, 'dist');
const outfile = join(dist, 'connect-wfm-rta.mjs');
mkdirSync(dist, { recursive: true });
// Built beside and renamed, so that a daemon started meanwhile never loads half a file.
const tmp = join(here, `.dist.${process.pid}.tmp`);
await build({
  entryPoints: { 'connect-wfm-rta': join(here, 'src', 'bin.ts') },
  outdir: tmp,
  outExtension: { '.js': '.mjs' },
  // The DynamoDB and PostgreSQL stores (with their SDK / driver) are chunks loaded only when
  // RTA_STORE selects them: a daemon on the file store does not carry their code (peak RSS).
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
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
// Chunks first (content-hashed names, so old ones stay valid for a running daemon), then the entry.
mkdirSync(join(dist, 'chunks'), { recursive: true });
for (const name of readdirSync(join(tmp, 'chunks'))) {
  renameSync(join(tmp, 'chunks', name), join(dist, 'chunks', name));
}
chmodSync(join(tmp, 'connect-wfm-rta.mjs'), 0o755);
renameSync(join(tmp, 'connect-wfm-rta.mjs.map'), `${outfile}.map`);
renameSync(join(tmp, 'connect-wfm-rta.mjs'), outfile);
rmSync(tmp, { recursive: true, force: true });
console.log(`built ${outfile}`);
