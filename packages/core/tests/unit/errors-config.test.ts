import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import {
  ConnectWfmError,
  configProblemsFrom,
  formatConfigProblems,
  isConnectWfmError,
} from '../../src/index.js';

class ThingError extends ConnectWfmError<'THING_BUSY' | 'THING_MISSING'> {}

describe('ConnectWfmError', () => {
  it('carries code, retryable (false by default), name and cause', () => {
    const cause = new Error('socket hang up');
    const busy = new ThingError('THING_BUSY', 'busy', { retryable: true, cause });
    const missing = new ThingError('THING_MISSING', 'missing');
    expect(busy).toMatchObject({ code: 'THING_BUSY', retryable: true, name: 'ThingError', cause });
    expect(missing.retryable).toBe(false);
    expect('cause' in missing).toBe(false);
    expect(isConnectWfmError(busy)).toBe(true);
    expect(isConnectWfmError(new Error('plain'))).toBe(false);
  });
});

describe('config problems', () => {
  it('lists every problem of a zod error with dotted paths', () => {
    const schema = z.strictObject({
      port: z.number(),
      agents: z.array(z.strictObject({ name: z.string() })),
    });
    const parsed = schema.safeParse({ port: 'x', agents: [{ name: 1 }], extra: true });
    expect(parsed.success).toBe(false);
    if (parsed.success) return;
    const problems = configProblemsFrom(parsed.error);
    expect(problems.map((p) => p.path).sort()).toEqual(['', 'agents[0].name', 'port']);
    expect(formatConfigProblems(problems)).toContain('agents[0].name: ');
  });
});
