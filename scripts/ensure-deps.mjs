#!/usr/bin/env node
// Installs dependencies with `npm ci` when node_modules is missing or stale, so that
// `npm test`, `npm run bench` and `npm run demo` work as the first command on a fresh clone.
// Stale means: package-lock.json changed since the last install this script (or npm) made.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const lock = join(root, 'package-lock.json');
const modules = join(root, 'node_modules');
const hiddenLock = join(modules, '.package-lock.json');
const marker = join(modules, '.connect-wfm-lock-sha256');

function lockHash() {
  return createHash('sha256').update(readFileSync(lock)).digest('hex');
}

function isFresh() {
  if (!existsSync(modules) || !existsSync(hiddenLock)) return false;
  const hash = lockHash();
  if (existsSync(marker) && readFileSync(marker, 'utf8').trim() === hash) return true;
  // npm itself rewrites node_modules/.package-lock.json on every install.
  return statSync(hiddenLock).mtimeMs >= statSync(lock).mtimeMs;
}

if (!existsSync(lock)) {
  console.error('ensure-deps: package-lock.json is missing; run `npm install` once to create it.');
  process.exit(1);
}

if (!isFresh()) {
  console.error(
    'ensure-deps: node_modules is missing or older than package-lock.json; running npm ci',
  );
  try {
    execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  } catch {
    // `npm ci` refuses a lockfile that lacks other platforms' optional binaries (biome, turbo,
    // esbuild ship one package per platform); npm writes such lockfiles when its registry mirror
    // serves only some of them. `npm install` then installs the same locked versions.
    console.error('ensure-deps: npm ci failed; installing the locked versions with npm install');
    execFileSync('npm', ['install', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  }
  writeFileSync(marker, `${lockHash()}\n`);
}
