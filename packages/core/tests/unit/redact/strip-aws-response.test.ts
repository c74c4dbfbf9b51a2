import { inspect, types } from 'node:util';
import { AWS_DROPPED_FIELDS, MAX_CAUSE_DEPTH, stripAwsResponse } from '../../../src/index.js';

const SIGNED = 'AWS4-HMAC-SHA256 Credential=AKIAEXAMPLEKEYID/20240101/eu-west-1';

/** Shaped like an AWS SDK v3 ServiceException. */
class ServiceException extends Error {
  readonly $fault = 'client' as const;
  readonly $metadata = { httpStatusCode: 400, requestId: 'req-1', attempts: 1 };
  constructor(name: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = name;
  }
}

/** An SDK-like error whose `$response` is hidden and cannot be deleted, as the SDK makes it. */
function sdkError(options?: ErrorOptions): ServiceException {
  const err = new ServiceException(
    'ResourceNotFoundException',
    'Requested resource not found',
    options,
  );
  Object.defineProperty(err, '$response', {
    value: { statusCode: 400, headers: { authorization: SIGNED } },
    enumerable: false,
    configurable: false,
    writable: false,
  });
  return err;
}

describe('stripAwsResponse', () => {
  it('drops a non-enumerable, non-configurable $response and keeps instanceof, name and $metadata', () => {
    const err = sdkError();
    expect(() => {
      delete (err as { $response?: unknown }).$response;
    }).toThrow(TypeError);

    const clean = stripAwsResponse(err) as ServiceException;

    expect(clean).not.toBe(err);
    expect(clean).toBeInstanceOf(ServiceException);
    expect(clean).toBeInstanceOf(Error);
    expect(clean.name).toBe('ResourceNotFoundException');
    expect(clean.message).toBe('Requested resource not found');
    expect(clean.$fault).toBe('client');
    expect(clean.$metadata).toEqual({ httpStatusCode: 400, requestId: 'req-1', attempts: 1 });
    expect(clean.stack).toBe(err.stack);
    expect(Object.hasOwn(clean, '$response')).toBe(false);
    expect(inspect(clean, { showHidden: true, depth: 10 })).not.toContain('AKIA');
    expect(inspect(err, { showHidden: true, depth: 10 })).toContain('AKIA');
  });

  it('keeps a native error native, so util.inspect still prints its stack', () => {
    const clean = stripAwsResponse(sdkError());

    expect(types.isNativeError(clean)).toBe(true);
    expect(inspect(clean)).toContain('ResourceNotFoundException: Requested resource not found\n');
  });

  it('copies a plain object as a plain object with the same prototype', () => {
    const proto = { kind: 'http' };
    const obj = Object.assign(Object.create(proto) as { kind: string }, {
      response: { headers: { authorization: SIGNED } },
      status: 403,
    });

    const clean = stripAwsResponse(obj) as { kind: string; status: number };

    expect(types.isNativeError(clean)).toBe(false);
    expect(Object.getPrototypeOf(clean)).toBe(proto);
    expect(clean).toEqual({ status: 403 });
    expect(clean.kind).toBe('http');
  });

  it('drops every request, response and credential field and keeps the others', () => {
    const err = Object.assign(new Error('x'), {
      code: 'ECONNRESET',
      $responseBodyText: 'body',
      $request: {},
      request: {},
      response: {},
      config: {},
      credentials: { accessKeyId: 'AKIA' },
      retryable: true,
    });

    const clean = stripAwsResponse(err) as Record<string, unknown>;

    for (const field of AWS_DROPPED_FIELDS) expect(Object.hasOwn(clean, field)).toBe(false);
    expect(clean.code).toBe('ECONNRESET');
    expect(clean.retryable).toBe(true);
  });

  it('returns the same object when nothing needs dropping, and non-objects unchanged', () => {
    const plain = new ServiceException('ThrottlingException', 'slow down', {
      cause: new Error('inner'),
    });

    expect(stripAwsResponse(plain)).toBe(plain);
    expect(stripAwsResponse('text')).toBe('text');
    expect(stripAwsResponse(null)).toBeNull();
    expect(stripAwsResponse(undefined)).toBeUndefined();
  });

  it('cleans the cause chain and keeps the cause property non-enumerable', () => {
    const inner = sdkError();
    const outer = new Error('could not read table', { cause: inner });

    const clean = stripAwsResponse(outer) as Error;

    expect(clean).not.toBe(outer);
    expect(clean.message).toBe('could not read table');
    expect(clean.cause).toBeInstanceOf(ServiceException);
    expect(clean.cause).not.toBe(inner);
    expect(Object.hasOwn(clean.cause as object, '$response')).toBe(false);
    expect(Object.getOwnPropertyDescriptor(clean, 'cause')?.enumerable).toBe(false);
  });

  it('keeps the originals below the last link that needed stripping', () => {
    const bottom = new Error('bottom');
    const err = sdkError({ cause: bottom });

    const clean = stripAwsResponse(err) as Error;

    expect(clean.cause).toBe(bottom);
  });

  it('cleans down to MAX_CAUSE_DEPTH and cuts a longer chain there', () => {
    let deep: Error = sdkError();
    for (let i = 0; i < MAX_CAUSE_DEPTH; i++) deep = new Error(`level ${i}`, { cause: deep });
    let deeper: Error = sdkError();
    for (let i = 0; i < MAX_CAUSE_DEPTH + 2; i++)
      deeper = new Error(`level ${i}`, { cause: deeper });

    const cleanDeep = stripAwsResponse(deep);
    const cleanDeeper = stripAwsResponse(deeper);

    expect(inspect(cleanDeep, { showHidden: true, depth: 50 })).not.toContain('AKIA');
    expect(inspect(cleanDeep, { depth: 50 })).toContain('ResourceNotFoundException');
    expect(inspect(cleanDeeper, { showHidden: true, depth: 50 })).not.toContain('AKIA');
    let links = 0;
    for (let cur: unknown = cleanDeeper; cur instanceof Error; cur = cur.cause) links++;
    expect(links).toBe(MAX_CAUSE_DEPTH + 1);
  });

  it('copies an error whose class keeps its fields in internal slots as a plain, readable error', () => {
    const timeout = new DOMException('timed out', {
      name: 'TimeoutError',
      cause: sdkError(),
    } as never);

    const clean = stripAwsResponse(timeout) as Error;

    expect(clean).not.toBe(timeout);
    expect(clean.name).toBe('TimeoutError');
    expect(clean.message).toBe('timed out');
    expect(clean.stack).toBe(timeout.stack);
    expect(inspect(clean, { showHidden: true, depth: null })).not.toContain('AKIA');
    expect((clean.cause as Error).message).toBe('Requested resource not found');
  });

  it('returns a chain without AWS fields as it is, however long within MAX_CAUSE_DEPTH', () => {
    let err: Error = Object.assign(new Error('connect ECONNRESET'), {
      code: 'ECONNRESET',
      errno: -104,
    });
    for (let i = 0; i < MAX_CAUSE_DEPTH - 1; i++)
      err = new RangeError(`level ${i}`, { cause: err });

    expect(stripAwsResponse(err)).toBe(err);
  });

  it('keeps a cycle, pointing it at the copies', () => {
    const a = sdkError();
    const b = new Error('b', { cause: a });
    Object.defineProperty(a, 'cause', { value: b, writable: true, configurable: true });

    const clean = stripAwsResponse(b) as Error;

    expect((clean.cause as Error).cause).toBe(clean);
    expect(Object.hasOwn(clean.cause as object, '$response')).toBe(false);
  });
});
