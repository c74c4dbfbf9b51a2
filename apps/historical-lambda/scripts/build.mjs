#!/usr/bin/env node
// Builds the Lambda artifact: an esbuild bundle (Node.js 22, ESM) and a deterministic zip.
// usage: node scripts/build.mjs [--outdir DIR] [--readable]   (default: dist/)
// --readable: not minified (names kept), for CPU profiles of the bundle; not the artifact.
// Prints one JSON line: { zip, zipBytes, bundleBytes, sha256 }.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { zipSync } from 'fflate';

const app = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const repo = resolve(app, '../..');
const args = process.argv.slice(2);
const at = args.indexOf('--outdir');
const outdir = at >= 0 ? resolve(args[at + 1] ?? '') : join(app, 'dist');
const readable = args.includes('--readable');
mkdirSync(outdir, { recursive: true });

/** ssh2's optional native add-ons: stubbed, so ssh2 uses its pure-JS code paths. */
const nativeStubs = {
  name: 'native-stubs',
  setup(b) {
    b.onResolve({ filter: /^cpu-features$|sshcrypto\.node$/ }, (a) => ({
      path: a.path,
      namespace: 'native-stub',
    }));
    b.onLoad({ filter: /.*/, namespace: 'native-stub' }, () => ({
      contents: 'throw new Error("native add-on not bundled");',
      loader: 'js',
    }));
  },
};

const result = await build({
  entryPoints: [join(app, 'src/index.ts')],
  outfile: join(outdir, 'index.mjs'),
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'esm',
  minify: !readable,
  legalComments: 'none',
  // The workspace packages are bundled from their sources (tsconfig paths).
  tsconfig: join(repo, 'tsconfig.base.json'),
  mainFields: ['module', 'main'],
  banner: {
    // CommonJS dependencies (ssh2) call require() for Node built-ins and read __dirname.
    js: "import{createRequire as __cr}from'node:module';import{fileURLToPath as __fu}from'node:url';const require=__cr(import.meta.url);const __filename=__fu(import.meta.url);const __dirname=__fu(new URL('.',import.meta.url));",
  },
  plugins: [nativeStubs],
  metafile: true,
  logLevel: 'warning',
  write: false,
});
const bundle = result.outputFiles?.[0]?.contents;
if (bundle === undefined) throw new Error('esbuild produced no output');
writeFileSync(join(outdir, 'index.mjs'), bundle);
writeFileSync(join(outdir, 'meta.json'), JSON.stringify(result.metafile));

// Deterministic zip: one entry, fixed time (local-time fields, so the time zone does not
// matter), fixed Unix mode 0644, maximum compression.
const zip = zipSync(
  {
    'index.mjs': [
      bundle,
      { level: 9, mtime: new Date(2000, 0, 1, 0, 0, 0), os: 3, attrs: 0o100644 << 16 },
    ],
  },
  {},
);
const zipPath = join(outdir, 'historical-lambda.zip');
writeFileSync(zipPath, zip);
const sha256 = createHash('sha256').update(readFileSync(zipPath)).digest('hex');
process.stdout.write(
  `${JSON.stringify({ zip: zipPath, zipBytes: zip.length, bundleBytes: bundle.length, sha256 })}\n`,
);
