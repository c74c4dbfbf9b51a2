import { RtaClientConfigError, TeleoptiRtaClient } from '../../src/index.js';
import { resolveOptions } from '../../src/options.js';

const valid = { baseUrl: 'http://127.0.0.1:8080', authenticationKey: 'key-0x5ec', sourceId: '1' };

describe('client options', () => {
  it('fills in the documented defaults', () => {
    const resolved = resolveOptions(valid);

    expect(resolved).toMatchObject({
      chunkSize: 1000,
      legacy: false,
      timeoutMs: 30_000,
      retry: {
        initialDelayMs: 250,
        maxDelayMs: 30_000,
        multiplier: 2,
        maxAttempts: Number.POSITIVE_INFINITY,
      },
    });
    expect(resolved.ca).toBeUndefined();
  });

  it('resolves endpoints under a base URL path, with or without a trailing slash', () => {
    for (const baseUrl of [
      'https://wfm.example.com/TeleoptiWFM/Web',
      'https://wfm.example.com/TeleoptiWFM/Web/',
    ]) {
      const { endpointBase } = resolveOptions({ ...valid, baseUrl });

      expect(new URL('Rta/State/Batch', endpointBase).href).toBe(
        'https://wfm.example.com/TeleoptiWFM/Web/Rta/State/Batch',
      );
    }
  });

  it('reports every problem at once and never echoes the key', () => {
    const attempt = () =>
      new TeleoptiRtaClient({
        baseUrl: 'ftp://example.com',
        authenticationKey: '',
        sourceId: '',
        chunkSize: 0,
        timeoutMs: -1,
        retry: { multiplier: 0.5 },
        ...({ extra: 'key-0x5ec' } as object),
      } as never);

    let err: unknown;
    try {
      attempt();
    } catch (e) {
      err = e;
    }

    expect(err).toBeInstanceOf(RtaClientConfigError);
    const problems = (err as RtaClientConfigError).problems;
    expect(problems.map((p) => p.split(':')[0])).toEqual(
      expect.arrayContaining([
        'baseUrl',
        'authenticationKey',
        'sourceId',
        'chunkSize',
        'timeoutMs',
        'retry.multiplier',
        'options',
      ]),
    );
    expect((err as RtaClientConfigError).fatal).toBe(true);
    expect(String(err)).not.toContain('key-0x5ec');
  });

  it('rejects a logger without the four methods and a non-function hook', () => {
    expect(
      () =>
        new TeleoptiRtaClient({
          ...valid,
          logger: { info: () => {} } as never,
          onRetry: 'x' as never,
        }),
    ).toThrow(
      /logger: must have debug, info, warn and error functions.*onRetry: must be a function/,
    );
  });
});
