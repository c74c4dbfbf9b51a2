import {
  ExpiredIteratorException,
  InvalidArgumentException,
  KMSThrottlingException,
  ProvisionedThroughputExceededException,
  ResourceNotFoundException,
} from '@aws-sdk/client-kinesis';
import { AttemptsExhausted, unwrapAttempts } from '../../src/attempt-cap.js';
import { classifyError } from '../../src/classify.js';

const meta = { $metadata: { httpStatusCode: 400 } };

describe('classifyError', () => {
  it('sorts the SDK exceptions the reader reacts to', () => {
    expect(
      classifyError(new ProvisionedThroughputExceededException({ message: 'x', ...meta })),
    ).toBe('throttle');
    expect(classifyError(new KMSThrottlingException({ message: 'x', ...meta }))).toBe('throttle');
    expect(classifyError(new ExpiredIteratorException({ message: 'x', ...meta }))).toBe(
      'expired-iterator',
    );
    expect(classifyError(new ResourceNotFoundException({ message: 'x', ...meta }))).toBe(
      'not-found',
    );
    expect(classifyError(new InvalidArgumentException({ message: 'x', ...meta }))).toBe(
      'invalid-argument',
    );
  });

  it('treats network errors, timeouts and 5xx as transient', () => {
    expect(classifyError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toBe(
      'transient',
    );
    expect(classifyError({ name: 'InternalFailure', $metadata: { httpStatusCode: 500 } })).toBe(
      'transient',
    );
    expect(classifyError({ name: 'Whatever', $metadata: { httpStatusCode: 503 } })).toBe(
      'transient',
    );
    expect(classifyError({ name: 'TimeoutError' })).toBe('transient');
  });

  it('treats aborts as aborted and the rest as fatal', () => {
    expect(classifyError({ name: 'AbortError' })).toBe('aborted');
    expect(
      classifyError({ name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } }),
    ).toBe('fatal');
    expect(classifyError('a string')).toBe('fatal');
  });

  it('unwraps the attempt cap so the original SDK error is classified', () => {
    const original = new ProvisionedThroughputExceededException({ message: 'x', ...meta });
    expect(classifyError(unwrapAttempts(new AttemptsExhausted(original)))).toBe('throttle');
    // The wrapper itself is not retryable to the SDK (it keeps the original out of `cause`).
    expect(new AttemptsExhausted(original).cause).toBeUndefined();
  });
});
