import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { REPO_ROOT } from './helpers.js';

const INDEX = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'index.ts');

/** Imports the package in a fresh process, runs `then`, and says whether papaparse was loaded. */
async function papaparseLoaded(then: string): Promise<boolean> {
  const script = `
    import { createRequire } from 'node:module';
    const lib = await import(${JSON.stringify(pathToFileURL(INDEX).href)});
    ${then}
    const cache = createRequire(import.meta.url).cache;
    console.log(Object.keys(cache).some((k) => k.includes('papaparse')));
  `;
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', script],
    { env: { ...process.env, TSX_TSCONFIG_PATH: join(REPO_ROOT, 'tsconfig.json') } },
  );
  return stdout.trim() === 'true';
}

describe('start-up cost', () => {
  it('does not load papaparse until an agent performance report is mapped', async () => {
    expect(await papaparseLoaded('')).toBe(false);
    expect(
      await papaparseLoaded(
        "await lib.mapAgentPerformanceReport('Agent,Interval,Agent idle time,Non-Productive Time,Online time\\n');",
      ),
    ).toBe(true);
  });
});
