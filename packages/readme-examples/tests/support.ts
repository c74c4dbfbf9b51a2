// Extracts the runnable examples of the package READMEs and runs each one as a user would: the
// block written to a temporary `.mts` file, run by Node with tsx, the workspace packages resolved
// from their sources (the root tsconfig's `paths`). Endpoints reach the example through
// environment variables it reads itself (the AWS SDK's own `AWS_ENDPOINT_URL_<SERVICE>`, or
// `process.env.X ?? 'default'` in the example), so the README text runs unchanged.
import { spawn } from 'node:child_process';
import {
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SshdServer } from '@connect-wfm/testkit';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** A fence that opens a runnable example: exactly three backticks and `ts`, nothing after it. */
const RUNNABLE_FENCE = '```ts';
/** A fence that opens a TypeScript block which is not a whole program (a signature, a fragment). */
const FRAGMENT_FENCE = '```ts fragment';

/** One runnable example: the package, its place in the README and its code. */
export interface ReadmeExample {
  readonly pkg: string;
  /** 0-based index among the README's runnable examples. */
  readonly index: number;
  /** 1-based line of the opening fence, for messages. */
  readonly line: number;
  readonly code: string;
}

interface ReadmeBlocks {
  readonly runnable: ReadmeExample[];
  readonly fragments: number;
  /** Opening fences that start with ```ts but are neither of the two kinds above. */
  readonly unknown: string[];
}

/** Every package that has a README.md, by directory name. */
export function readmePackages(): string[] {
  return readdirSync(join(REPO, 'packages'), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .filter((name) => {
      try {
        readFileSync(join(REPO, 'packages', name, 'README.md'));
        return true;
      } catch {
        return false;
      }
    })
    .sort();
}

/** Splits a package README into its runnable examples and counts its fragments. */
export function readmeBlocks(pkg: string): ReadmeBlocks {
  const lines = readFileSync(join(REPO, 'packages', pkg, 'README.md'), 'utf8').split('\n');
  const runnable: ReadmeExample[] = [];
  const unknown: string[] = [];
  let fragments = 0;
  for (let i = 0; i < lines.length; i++) {
    const fence = (lines[i] as string).trimEnd();
    if (!fence.startsWith('```')) continue;
    const start = i;
    let end = i + 1;
    while (end < lines.length && !(lines[end] as string).startsWith('```')) end++;
    if (end >= lines.length)
      throw new Error(`packages/${pkg}/README.md:${start + 1}: unclosed fence`);
    if (fence === RUNNABLE_FENCE) {
      runnable.push({
        pkg,
        index: runnable.length,
        line: start + 1,
        code: lines.slice(start + 1, end).join('\n'),
      });
    } else if (fence === FRAGMENT_FENCE) {
      fragments++;
    } else if (/^```(ts|typescript)\b/.test(fence)) {
      unknown.push(`packages/${pkg}/README.md:${start + 1}: ${fence}`);
    }
    i = end;
  }
  return { runnable, fragments, unknown };
}

/** The `index`-th runnable example of a package README (it must exist). */
export function readmeExample(pkg: string, index = 0): ReadmeExample {
  const example = readmeBlocks(pkg).runnable[index];
  if (example === undefined) throw new Error(`packages/${pkg}/README.md has no example #${index}`);
  return example;
}

/** What a finished example left behind. */
export interface ExampleRun {
  readonly exit: number | null;
  /** stdout and stderr, interleaved as they arrived. */
  readonly out: string;
  readonly stdout: string;
  /** The working directory the example ran in (files it wrote are there until `cleanUp`). */
  readonly dir: string;
  cleanUp(): void;
}

export interface RunOptions {
  /** Environment for the example, over the parent's. */
  readonly env?: Record<string, string>;
  /** Files written into the working directory first (name → content). */
  readonly files?: Record<string, string | Uint8Array>;
  /** Once this holds for the output so far, the example gets SIGTERM (for examples that run until stopped). */
  readonly stopWhen?: (out: string) => boolean;
  /** Hard limit; the example is killed after it (default 90 s). */
  readonly timeoutMs?: number;
}

/** Environment variables that point the AWS SDK at local peers (the SDK reads them itself). */
export function awsEnv(
  peers: Partial<Record<'S3' | 'KINESIS' | 'KMS' | 'SQS' | 'DYNAMODB', string>>,
  credentials: { accessKeyId: string; secretAccessKey: string },
  region: string,
): Record<string, string> {
  const env: Record<string, string> = {
    AWS_REGION: region,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
  };
  for (const [service, endpoint] of Object.entries(peers)) {
    if (endpoint !== undefined) env[`AWS_ENDPOINT_URL_${service}`] = endpoint;
  }
  return env;
}

/** The `SFTP_*` variables the examples read, pointing at a testkit sshd (password login). */
export function sftpEnv(sshd: SshdServer): Record<string, string> {
  return {
    SFTP_HOST: sshd.host,
    SFTP_PORT: String(sshd.port),
    SFTP_USERNAME: sshd.username,
    SFTP_PASSWORD: sshd.password,
    SFTP_HOST_KEY_SHA256: sshd.hostKeySha256,
  };
}

/** Runs one example in a fresh working directory, in its own Node process. */
export function runExample(example: ReadmeExample, options: RunOptions = {}): Promise<ExampleRun> {
  const dir = mkdtempSync(join(tmpdir(), `cwfm-readme-${example.pkg}-`));
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'));
  for (const [name, content] of Object.entries(options.files ?? {})) {
    writeFileSync(join(dir, name), content);
  }
  const file = join(dir, `example-${example.index}.mts`); // top-level await: an ES module
  writeFileSync(file, `${example.code}\n`);
  const cleanUp = (): void => rmSync(dir, { recursive: true, force: true });
  return new Promise((resolve) => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...options.env,
      TSX_TSCONFIG_PATH: join(REPO, 'tsconfig.json'),
    };
    // Jest's own variables would change how some libraries behave; a user has none of them.
    delete env.NODE_OPTIONS;
    delete env.JEST_WORKER_ID;
    const child = spawn(process.execPath, ['--import', 'tsx', file], {
      cwd: dir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let stdout = '';
    let stopped = false;
    const seen = (chunk: Buffer, isStdout: boolean): void => {
      out += chunk;
      if (isStdout) stdout += chunk;
      if (!stopped && options.stopWhen?.(out) === true) {
        stopped = true;
        child.kill('SIGTERM');
      }
    };
    child.stdout.on('data', (d: Buffer) => seen(d, true));
    child.stderr.on('data', (d: Buffer) => seen(d, false));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 90_000);
    child.on('close', (exit) => {
      clearTimeout(timer);
      resolve({ exit, out, stdout, dir, cleanUp });
    });
  });
}

/** A readable message for a failed run: where the example is and what it printed. */
export function describeRun(example: ReadmeExample, run: ExampleRun): string {
  return `packages/${example.pkg}/README.md:${example.line} exited ${run.exit}:\n${run.out}`;
}
