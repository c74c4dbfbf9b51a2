import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * The full path of an executable found on `PATH`, or `undefined`.
 *
 * @example
 * findOnPath('cfn-lint'); // '/usr/local/bin/cfn-lint'
 */
export function findOnPath(name: string, path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** The result of one cfn-lint run. */
export interface CfnLintResult {
  /** cfn-lint's exit status: a bit mask, 2 = errors, 4 = warnings, 8 = informational. */
  readonly status: number;
  /** Whether any error (E) was reported. */
  readonly hasErrors: boolean;
  /** Whether any warning (W) was reported. */
  readonly hasWarnings: boolean;
  /** What cfn-lint printed. */
  readonly output: string;
}

/**
 * Runs cfn-lint on template files (what `.ci/run` runs: `cfn-lint deploy/*.yaml`).
 *
 * @example
 * const result = runCfnLint('/usr/local/bin/cfn-lint', ['deploy/historical-feed.yaml']);
 * if (result.hasErrors) throw new Error(result.output);
 */
export function runCfnLint(
  executable: string,
  files: readonly string[],
  cwd?: string,
): CfnLintResult {
  const run = spawnSync(executable, ['--', ...files], {
    cwd,
    encoding: 'utf8',
    timeout: 180_000,
  });
  if (run.error) throw run.error;
  const status = run.status ?? -1;
  return {
    status,
    hasErrors: status < 0 || (status & 2) !== 0,
    hasWarnings: status >= 0 && (status & 4) !== 0,
    output: `${run.stdout}${run.stderr}`,
  };
}
