/**
 * Issue 18, light imports: loading the store's entries or the reader loads no database driver;
 * a driver loads only when its backend is used.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
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
