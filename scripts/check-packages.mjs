#!/usr/bin/env node
// Checks what each published package would ship: builds every workspace (turbo), then runs
// publint (package.json, exports, files) and @arethetypeswrong/cli (types resolve for ESM
// consumers under node16/nodenext and bundler resolution) on each non-private package.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);
const run = (cmd, args, cwd = root) =>
  execFileSync(cmd, args, {
    cwd,
    stdio: 'inherit',
    env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' },
  });

run(bin('turbo'), ['run', 'build', '--output-logs=errors-only']);

let failed = 0;
for (const name of readdirSync(join(root, 'packages')).sort()) {
  const dir = join(root, 'packages', name);
  const pkgFile = join(dir, 'package.json');
  if (!existsSync(pkgFile)) continue;
  const pkg = JSON.parse(readFileSync(pkgFile, 'utf8'));
  if (pkg.private) continue;
  console.log(`\n== ${pkg.name}`);
  try {
    run(bin('publint'), ['run', '--strict', '--pack', 'npm', dir]);
    run(bin('attw'), ['--pack', dir, '--profile', 'esm-only', '--format', 'table']);
  } catch {
    failed += 1;
  }
}
if (failed > 0) {
  console.error(`check-packages: ${failed} package(s) failed`);
  process.exit(1);
}
