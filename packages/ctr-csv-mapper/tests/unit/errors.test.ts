import { ConnectWfmError, isConnectWfmError, type Logger } from '@connect-wfm/core';
import {
  CtrMapperError,
  InputFailedError,
  IntervalStatsAccumulator,
  InvalidOptionsError,
  type Logger as MapperLogger,
} from '@connect-wfm/ctr-csv-mapper';
import { readAll } from './helpers.js';

describe('the shared vocabulary of @connect-wfm/core (issue 18)', () => {
  it('errors are ConnectWfmErrors with a code and retryable', () => {
    const failed = new InputFailedError('k', 10, { cause: new Error('reset') });
    expect(failed).toBeInstanceOf(CtrMapperError);
    expect(failed).toBeInstanceOf(ConnectWfmError);
    expect(isConnectWfmError(failed)).toBe(true);
    expect([failed.code, failed.retryable]).toEqual(['INPUT_FAILED', true]);
  });

  it('an options error lists every problem as {path, message}, not retryable', async () => {
    let caught: unknown;
    try {
      await readAll([Buffer.from('{}')], { maxRecordBytes: 1, compression: 'zip' as 'gzip' });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(InvalidOptionsError);
    const err = caught as InvalidOptionsError;
    expect(err.retryable).toBe(false);
    expect(err.problems.map((p) => p.path)).toEqual(['maxRecordBytes', 'compression']);
    expect(err.issues).toHaveLength(2);
    expect(() =>
      new IntervalStatsAccumulator().merge(new IntervalStatsAccumulator({ arn: 'full' })),
    ).toThrow(
      expect.objectContaining({
        problems: [{ path: 'arn', message: 'id here, full in the other' }],
      }),
    );
  });

  it('takes the core Logger type', () => {
    const lines: string[] = [];
    const logger: Logger = {
      debug: (m) => lines.push(m),
      info: (m) => lines.push(m),
      warn: (m) => lines.push(m),
      error: (m) => lines.push(m),
    };
    const same: MapperLogger = logger;
    expect(same).toBe(logger);
  });
});
