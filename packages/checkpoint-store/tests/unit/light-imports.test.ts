/**
 * Issue 18, light imports: loading the store's entries or the reader loads no database driver;
 * a driver loads only when its backend is used.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { DriverMissingError } from '@connect-wfm/checkpoint-store';
import { importOptional } from '../../src/optional-dependency.js';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..', '..', '..', '..');
const fixture = join(import.meta.dirname, '..', 'fixtures', 'loaded-drivers.mjs');
const store = (entry: string) => join(root, 'packages', 'checkpoint-store', 'src', `${entry}.ts`);

async function loadedDrivers(...args: string[]): Promise<{ pg: number; dynamodb: number }> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', fixture, ...args], {
    cwd: root,
    timeout: 60_000,
  });
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as { pg: number; dynamodb: number };
}

describe('light imports', () => {
  it('loads neither pg nor @aws-sdk/client-dynamodb when the root entry and the reader are imported', async () => {
    const reader = join(root, 'packages', 'kinesis-shard-reader', 'src', 'index.ts');
    expect(await loadedDrivers(store('index'), reader)).toEqual({ pg: 0, dynamodb: 0 });
  }, 90_000);

  it('loads no driver when the /dynamodb and /postgres entries are only imported', async () => {
    expect(await loadedDrivers(store('dynamodb'), store('postgres'))).toEqual({
      pg: 0,
      dynamodb: 0,
    });
  }, 90_000);

  it('loads the DynamoDB SDK once its backend is used (the check sees a loaded driver)', async () => {
    const used = await loadedDrivers(store('dynamodb'), '--use-dynamodb');
    expect(used.dynamodb).toBeGreaterThan(0);
    expect(used.pg).toBe(0);
  }, 90_000);

  it('declares the root entry without mentioning pg or @aws-sdk/client-dynamodb (they live at /dynamodb and /postgres)', async () => {
    const out = await mkdtemp(join(tmpdir(), 'cps-dts-'));
    try {
      await run(
        process.execPath,
        [
          join(root, 'node_modules', 'typescript', 'bin', 'tsc'),
          '-p',
          join(root, 'packages', 'checkpoint-store', 'tsconfig.build.json'),
          '--declaration',
          '--emitDeclarationOnly',
          '--declarationMap',
          'false',
          '--outDir',
          out,
        ],
        { cwd: root, timeout: 120_000 },
      );
      // Every declaration file the root entry reaches through relative imports and exports.
      const seen = new Set<string>();
      const queue = [join(out, 'index.d.ts')];
      const mentions: string[] = [];
      while (queue.length > 0) {
        const file = queue.shift() as string;
        if (seen.has(file)) continue;
        seen.add(file);
        const text = await readFile(file, 'utf8');
        for (const m of text.matchAll(/(?:from|import\()\s*['"]([^'"]+)['"]/g)) {
          const spec = m[1] as string;
          if (spec === 'pg' || spec.startsWith('@aws-sdk/client-dynamodb')) {
            mentions.push(`${file.slice(out.length + 1)}: ${spec}`);
          }
          if (spec.startsWith('.')) {
            const target = resolve(dirname(file), spec.replace(/\.js$/, '.d.ts'));
            if (existsSync(target)) queue.push(target);
          }
        }
      }
      expect(seen.size).toBeGreaterThan(3);
      expect(mentions).toEqual([]);
      // The subpath entries still carry the typed options.
      expect(await readFile(join(out, 'dynamodb-types.d.ts'), 'utf8')).toContain(
        '@aws-sdk/client-dynamodb',
      );
      expect(await readFile(join(out, 'postgres-types.d.ts'), 'utf8')).toContain("'pg'");
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  }, 180_000);

  it('reports a missing optional driver with DriverMissingError naming the package', async () => {
    const err = await importOptional(
      'connect-wfm-not-installed-driver',
      'Example',
      () => import('connect-wfm-not-installed-driver' as string),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DriverMissingError);
    expect(err).toMatchObject({
      code: 'DRIVER_MISSING',
      packageName: 'connect-wfm-not-installed-driver',
    });
    expect((err as Error).message).toContain('npm install connect-wfm-not-installed-driver');
  });
});
