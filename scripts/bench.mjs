#!/usr/bin/env node
// Runs every benchmark: bench/*.bench.ts at the root and in each workspace.
//   npm run bench               all of them
//   npm run bench -- <filter>   only those whose path contains <filter>
// Each benchmark runs in its own Node process (so peak RSS is its own) and prints
// machine-readable lines `BENCH <name> key=value ...`; they are repeated in a summary.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(import.meta.dirname, '..');
const filters = process.argv.slice(2).filter((a) => !a.startsWith('-'));

function benchFiles(dir) {
  const benchDir = join(dir, 'bench');
  if (!existsSync(benchDir)) return [];
  return readdirSync(benchDir)
    .filter((f) => f.endsWith('.bench.ts'))
    .sort()
    .map((f) => join(benchDir, f));
}

const files = [...benchFiles(root)];
for (const group of ['packages', 'apps']) {
  const base = join(root, group);
  if (!existsSync(base)) continue;
  for (const name of readdirSync(base).sort()) files.push(...benchFiles(join(base, name)));
}

const selected = files.filter(
  (f) => filters.length === 0 || filters.some((flt) => relative(root, f).includes(flt)),
);
if (selected.length === 0) {
  console.error(`bench: no benchmark matches ${filters.join(' ') || '(none found)'}`);
  process.exit(1);
}

const benchLines = [];
let failed = 0;
for (const file of selected) {
  const rel = relative(root, file);
  console.log(`\n=== ${rel}`);
  const res = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', file], {
    cwd: root,
    env: { ...process.env, TSX_TSCONFIG_PATH: join(root, 'tsconfig.json') },
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  process.stdout.write(res.stdout ?? '');
  for (const line of (res.stdout ?? '').split('\n')) {
    if (line.startsWith('BENCH ')) benchLines.push(line);
  }
  if (res.status !== 0) {
    failed += 1;
    console.error(`bench: ${rel} failed (exit ${res.status ?? res.signal})`);
  }
}

console.log('\n=== summary');
for (const line of benchLines) console.log(line);
process.exit(failed > 0 ? 1 : 0);
