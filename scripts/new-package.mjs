#!/usr/bin/env node
// Scaffolds a workspace: node scripts/new-package.mjs <packages|apps>/<name> "<description>" [--private]
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

const [target, description = '', flag] = process.argv.slice(2);
if (!target || !/^(packages|apps)\/[a-z0-9-]+$/.test(target)) {
  console.error(
    'usage: node scripts/new-package.mjs <packages|apps>/<name> "<description>" [--private]',
  );
  process.exit(1);
}
const root = join(import.meta.dirname, '..');
const dir = join(root, target);
const name = basename(target);
const isPrivate = flag === '--private' || target.startsWith('apps/');
if (existsSync(join(dir, 'package.json'))) {
  console.error(`${target} already exists`);
  process.exit(1);
}
mkdirSync(join(dir, 'src'), { recursive: true });
mkdirSync(join(dir, 'tests', 'unit'), { recursive: true });

const pkg = {
  name: `@connect-wfm/${name}`,
  version: '0.1.0',
  description,
  license: 'Apache-2.0',
  type: 'module',
  ...(isPrivate ? { private: true } : {}),
  engines: { node: '>=22' },
  sideEffects: false,
  files: ['dist'],
  main: './dist/index.js',
  types: './dist/index.d.ts',
  exports: {
    '.': { types: './dist/index.d.ts', default: './dist/index.js' },
    './package.json': './package.json',
  },
  ...(isPrivate ? {} : { publishConfig: { access: 'public' } }),
  scripts: {
    build: 'tsc -p tsconfig.build.json',
    typecheck: 'tsc -p tsconfig.json',
    lint: 'biome ci .',
    test: `node --experimental-vm-modules --no-warnings=ExperimentalWarning ../../node_modules/jest/bin/jest.js --config ../../jest.config.mjs --selectProjects ${name}`,
  },
  dependencies: {},
};
writeFileSync(join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
writeFileSync(
  join(dir, 'tsconfig.json'),
  `${JSON.stringify(
    {
      extends: '../../tsconfig.base.json',
      compilerOptions: { noEmit: true, types: ['node', 'jest'] },
      include: ['src', 'tests', 'bench'],
    },
    null,
    2,
  )}\n`,
);
writeFileSync(
  join(dir, 'tsconfig.build.json'),
  `${JSON.stringify(
    {
      extends: '../../tsconfig.base.json',
      compilerOptions: { rootDir: 'src', outDir: 'dist', paths: {}, types: ['node'] },
      include: ['src'],
    },
    null,
    2,
  )}\n`,
);
writeFileSync(join(dir, 'src', 'index.ts'), 'export {};\n');
writeFileSync(join(dir, 'README.md'), `# @connect-wfm/${name}\n\n${description}\n`);
console.log(`created ${target}`);
