import { RtaClientConfigError, TeleoptiRtaClient } from '../../src/index.js';
import { resolveOptions } from '../../src/options.js';

const valid = { baseUrl: 'http://127.0.0.1:8080', authenticationKey: 'key-0x5ec', sourceId: '1' };

describe('client options', () => {
  it('fills in the documented defaults', () => {
    const resolved = resolveOptions(valid);

    expect(resolved).toMatchObject({
      chunkSize: 1000,
      generation: 'current',
      timeoutMs: 30_000,
      retry: {
        baseMs: 200,
        maxMs: 5000,
        jitter: 'equal',
        maxAttempts: Number.POSITIVE_INFINITY,
        maxElapsedMs: Number.POSITIVE_INFINITY,
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
        retry: { multiplier: 2 },
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
    expect(problems.map((p) => p.path)).toEqual(
      expect.arrayContaining([
        'baseUrl',
        'authenticationKey',
        'sourceId',
        'chunkSize',
        'timeoutMs',
        'retry',
        '',
      ]),
    );
    expect((err as RtaClientConfigError).fatal).toBe(true);
    expect(String(err)).not.toContain('key-0x5ec');
  });

  it('rejects a base URL with credentials (never echoing them), a query or a fragment, and timers Node cannot hold', () => {
    const problems = (options: object): string[] => {
      try {
        new TeleoptiRtaClient({ authenticationKey: 'k', sourceId: '1', ...options } as never);
      } catch (e) {
        expect(e).toBeInstanceOf(RtaClientConfigError);
        expect(String(e)).not.toContain('Pr0xyPass');
        return (e as RtaClientConfigError).problems.map((p) => `${p.path}: ${p.message}`);
      }
      return [];
    };
    expect(problems({ baseUrl: 'http://proxyuser:Pr0xyPass@127.0.0.1:1/wfm' })).toEqual([
      'baseUrl: must not contain a user name or password (user:password@): the RTA API authenticates with authenticationKey',
    ]);
    expect(problems({ baseUrl: 'http://127.0.0.1:1/wfm?tenant=a' })[0]).toContain(
      'baseUrl: must not have a query string or fragment',
    );
    expect(problems({ baseUrl: 'http://127.0.0.1:1/wfm#x' })).toHaveLength(1);
    expect(
      problems({
        baseUrl: 'http://127.0.0.1:1',
        timeoutMs: 3e9,
        retry: { maxDelayMs: 2 ** 31 },
      }).map((p) => p.split(':')[0]),
    ).toEqual(['timeoutMs', 'retry.maxDelayMs']);
    expect(
      problems({ baseUrl: 'http://127.0.0.1:1', retry: { initialDelayMs: 500, maxDelayMs: 100 } }),
    ).toHaveLength(1);
    expect(problems({ baseUrl: 'http://127.0.0.1:1', retry: { baseMs: 500, maxMs: 100 } })).toEqual(
      ['retry.maxMs: maxMs (maxDelayMs) must not be below baseMs (initialDelayMs; default 200)'],
    );
    expect(problems({ baseUrl: 'http://127.0.0.1:1', retry: { maxDelayMs: 100 } })).toEqual([
      'retry.maxMs: maxMs (maxDelayMs) must not be below baseMs (initialDelayMs; default 200)',
    ]);
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
