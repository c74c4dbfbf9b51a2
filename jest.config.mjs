// One root Jest config with a project per workspace (packages/* and apps/*).
// Sources are ESM TypeScript; ts-jest transpiles them (type-checking is done once
// by `npm run typecheck`, so tests stay fast). Internal packages resolve to their
// sources, so tests never need a build first.
import { existsSync, readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';

const root = import.meta.dirname;

function workspaces() {
  const dirs = [];
  for (const group of ['packages', 'apps']) {
    const base = join(root, group);
    if (!existsSync(base)) continue;
    for (const name of readdirSync(base).sort()) {
      if (existsSync(join(base, name, 'package.json'))) dirs.push({ group, name });
    }
  }
  return dirs;
}

/** @type {import('jest').Config} */
const config = {
  projects: workspaces().map(({ group, name }) => ({
    displayName: name,
    rootDir: join(root, group, name),
    testEnvironment: 'node',
    testMatch: ['<rootDir>/tests/**/*.test.ts'],
    extensionsToTreatAsEsm: ['.ts'],
    moduleNameMapper: {
      '^@connect-wfm/([a-z0-9-]+)$': join(root, 'packages', '$1', 'src', 'index.ts'),
      // Subpath entries (`@connect-wfm/checkpoint-store/dynamodb`) resolve to `src/<subpath>.ts`.
      '^@connect-wfm/([a-z0-9-]+)/([a-z0-9-]+)$': join(root, 'packages', '$1', 'src', '$2.ts'),
      '^(\\.{1,2}/.*)\\.js$': '$1',
    },
    transform: {
      '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: join(root, 'tsconfig.jest.json') }],
    },
  })),
  testTimeout: 60_000,
  // Most suites wait on local peers (kinesalite, sshd, PostgreSQL, child daemons) rather than use the
  // CPU, so Jest's default of one worker per spare core (a single worker on a 2-core machine) leaves
  // the machine idle. CONNECT_WFM_JEST_WORKERS overrides it (`--maxWorkers` on the command line too).
  maxWorkers: Number(process.env.CONNECT_WFM_JEST_WORKERS) || Math.max(2, availableParallelism()),
};

export default config;
