// Every package README's TypeScript blocks are either runnable examples, run by a test of this
// workspace, or fragments marked as such. A new ```ts block fails here until a test runs it.
import { readmeBlocks, readmePackages } from './support.js';

/** Runnable examples per package README, and the test that runs them. */
const RUN_BY: Record<string, { examples: number; test: string }> = {
  'checkpoint-store': { examples: 1, test: 'local.test.ts' },
  'connect-simulator': { examples: 1, test: 'aws.test.ts' },
  core: { examples: 1, test: 'local.test.ts' },
  'ctr-csv-mapper': { examples: 2, test: 'local.test.ts' },
  'deploy-checks': { examples: 0, test: '' },
  'historical-feed': { examples: 1, test: 'historical-feed.test.ts' },
  'kinesis-shard-reader': { examples: 1, test: 'aws.test.ts' },
  'readme-examples': { examples: 0, test: '' },
  redact: { examples: 1, test: 'local.test.ts' },
  'rta-delta-collapser': { examples: 1, test: 'local.test.ts' },
  's3-cse-reader': { examples: 1, test: 'aws.test.ts' },
  'sftp-uploader': { examples: 1, test: 'sftp-uploader.test.ts' },
  'teleopti-rta-client': { examples: 1, test: 'teleopti-rta-client.test.ts' },
  testkit: { examples: 1, test: 'local.test.ts' },
};

describe('README example coverage', () => {
  it('knows every package README', () => {
    expect(readmePackages()).toEqual(Object.keys(RUN_BY).sort());
  });

  it.each(readmePackages())('%s: every ts block is run by a test or marked a fragment', (pkg) => {
    const blocks = readmeBlocks(pkg);
    expect(blocks.unknown).toEqual([]);
    expect(blocks.runnable.length).toBe(RUN_BY[pkg]?.examples);
  });
});
