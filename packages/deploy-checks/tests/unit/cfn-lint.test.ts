import { join } from 'node:path';
import { type CfnLintResult, findOnPath, runCfnLint } from '../../src/index.js';
import { DEPLOY, TEMPLATE_FILES } from '../support.js';

// cfn-lint is a Python tool; `.ci/run` installs it and runs `cfn-lint deploy/*.yaml` itself. Here
// it runs when it is on PATH, so `npm test` on a machine without it still passes the other checks.
const cfnLint = findOnPath('cfn-lint');

describe('findOnPath', () => {
  it('finds node and misses a name that is nowhere', () => {
    expect(findOnPath('node')).toMatch(/node$/);
    expect(findOnPath('no-such-tool-connect-wfm')).toBeUndefined();
  });
});

// cfn-lint takes a while on a busy machine: one run for both templates, generous timeouts
const LINT_TIMEOUT_MS = 300_000;

if (cfnLint !== undefined) {
  describe('cfn-lint', () => {
    let result: CfnLintResult;

    beforeAll(() => {
      result = runCfnLint(
        cfnLint,
        TEMPLATE_FILES.map((f) => join(DEPLOY, f)),
      );
    }, LINT_TIMEOUT_MS);

    it('passes deploy/*.yaml with no error and no warning', () => {
      expect(result.output).toBe('');
      expect(result.hasErrors).toBe(false);
      expect(result.hasWarnings).toBe(false);
      expect(result.status).toBe(0);
    });

    it(
      'reports an error in a broken template (the check can fail)',
      () => {
        const broken = runCfnLint(cfnLint, [
          join(import.meta.dirname, '..', 'fixtures', 'broken.yaml'),
        ]);
        expect(broken.hasErrors).toBe(true);
        expect(broken.output).toMatch(/E3002/);
        expect(broken.output).toMatch(/E2533/);
      },
      LINT_TIMEOUT_MS,
    );
  });
}
