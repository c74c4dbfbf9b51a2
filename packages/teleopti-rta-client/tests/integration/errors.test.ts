import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type RtaReceiver, startRtaReceiver } from '@connect-wfm/testkit';
import {
  InvalidAuthenticationKeyError,
  InvalidStateError,
  RejectedBatchError,
  RtaClientClosedError,
  RtaHttpError,
  TeleoptiRtaClient,
  type TeleoptiRtaClientOptions,
  TeleoptiRtaError,
  UnknownSourceError,
} from '../../src/index.js';
import { agents, FAST_RETRY, recordingLogger } from '../helpers.js';

/** A key distinctive enough that any leak is found by a substring search. */
const SECRET = 'Zq7!secret#RTA-key-%ç-4f9a2c';

function causeChain(err: unknown): string[] {
  const out: string[] = [];
  let current: unknown = err;
  for (let i = 0; i < 10 && current !== undefined; i++) {
    out.push(
      current instanceof Error
        ? `${current.name} ${current.message} ${current.stack}`
        : String(current),
    );
    current = current instanceof Error ? current.cause : undefined;
  }
  return out;
}

function expectNoSecret(err: unknown, logLines: string[]): void {
  const texts = [
    String(err),
    (err as Error).message,
    (err as Error).stack ?? '',
    JSON.stringify(err),
    ...causeChain(err),
    ...logLines,
  ];
  for (const text of texts) {
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain('4f9a2c');
  }
}

describe('typed errors and secrecy of the authentication key', () => {
  let rta: RtaReceiver;
  const clients: TeleoptiRtaClient[] = [];

  function client(extra: Partial<TeleoptiRtaClientOptions> = {}): TeleoptiRtaClient {
    const c = new TeleoptiRtaClient({
      baseUrl: rta.url,
      authenticationKey: SECRET,
      sourceId: '1',
      retry: FAST_RETRY,
      ...extra,
    });
    clients.push(c);
    return c;
  }

  beforeAll(async () => {
    rta = await startRtaReceiver({
      authenticationKey: 'the-right-key',
      sourceIds: ['1'],
      mode: 'synchronous',
    });
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await rta.stop();
  });
  beforeEach(() => {
    rta.reset();
  });

  it('turns a 400 for a bad key into a fatal InvalidAuthenticationKeyError that never shows the key', async () => {
    const logger = recordingLogger();

    const err = await client({ logger })
      .sendStates(agents(3))
      .catch((e: unknown) => e);

    expect(err).toBeInstanceOf(InvalidAuthenticationKeyError);
    expect(err).toMatchObject({ code: 'INVALID_AUTHENTICATION_KEY', fatal: true, status: 400 });
    expect((err as Error).message).toContain('rejected the authentication key');
    expect((err as Error).message).toContain(rta.url);
    expect(rta.requests).toHaveLength(1);
    expect(logger.lines.some((l) => l.startsWith('error'))).toBe(true);
    expectNoSecret(err, logger.lines);
  });

  it('treats a bad key on a snapshot the same way', async () => {
    const err = await client()
      .sendSnapshot(agents(3))
      .catch((e: unknown) => e);

    expect(err).toBeInstanceOf(InvalidAuthenticationKeyError);
    expectNoSecret(err, []);
  });

  it('turns an unknown source id into a fatal UnknownSourceError naming the source', async () => {
    const c = new TeleoptiRtaClient({
      baseUrl: rta.url,
      authenticationKey: 'the-right-key',
      sourceId: '99',
    });
    clients.push(c);

    const err = await c.sendStates(agents(1)).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(UnknownSourceError);
    expect(err).toMatchObject({
      fatal: true,
      sourceId: '99',
      serverMessage: 'Source id "99" not found',
    });
    expect(rta.requests).toHaveLength(1);
  });

  it('redacts the key when a server (or proxy) echoes it in a message, in errors and logs', async () => {
    const logger = recordingLogger();
    const retryMessages: string[] = [];
    const c = client({
      logger,
      onRetry: (e) => retryMessages.push(e.message),
      retry: { ...FAST_RETRY, maxAttempts: 2 },
    });

    rta.failNext(2, 503, `upstream refused ${SECRET}`);
    const exhausted = await c.sendStates(agents(1)).catch((e: unknown) => e);
    rta.failNext(1, 400, `No person found for UserCode agent.00000 (echo: ${SECRET})`);
    const report = await c.sendStates(agents(1));

    expect(exhausted).toBeInstanceOf(TeleoptiRtaError);
    expect((exhausted as Error).message).toContain('upstream refused [redacted]');
    expectNoSecret(exhausted, logger.lines);
    expect(retryMessages).toEqual(['upstream refused [redacted]']);
    const rejected = report.rejected[0];
    expect(rejected).toBeInstanceOf(RejectedBatchError);
    expect(rejected?.serverMessage).toBe(
      'No person found for UserCode agent.00000 (echo: [redacted])',
    );
    expectNoSecret(rejected, logger.lines);
  });

  it('redacts a short key wherever it occurs, also inside a word', async () => {
    const c = client({ authenticationKey: 'k3y' });
    rta.failNext(1, 400, 'No person found for UserCode xk3yx (echo: k3y)');

    const report = await c.sendStates(agents(1));

    expect(report.rejected[0]?.serverMessage).toBe(
      'No person found for UserCode x[redacted]x (echo: [redacted])',
    );
  });

  it('redacts an echoed key before cutting a long message, so no part of it shows', async () => {
    const logger = recordingLogger();
    const c = client({ logger });
    // The key straddles the 500-character cut of server messages.
    rta.failNext(1, 400, `${'x'.repeat(490)} echo: ${SECRET}`);

    const report = await c.sendStates(agents(1));

    const rejected = report.rejected[0];
    // Redacted first, then cut: the cut falls inside the marker, not inside the key.
    expect(rejected?.serverMessage).toMatch(/ echo: \[re…$/);
    for (let n = 6; n <= SECRET.length; n++) {
      expect(JSON.stringify([rejected?.message, logger.lines])).not.toContain(SECRET.slice(0, n));
    }
  });

  it('never follows a redirect: a 302 to a page answering 200 is not counted as delivered, a 307 does not carry the key elsewhere', async () => {
    const seen: string[] = [];
    const elsewhere: Server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => {
        body += d.toString('utf8');
      });
      req.on('end', () => {
        seen.push(`${req.method} ${req.url} ${body}`);
        res.end('<html>login</html>');
      });
    });
    await new Promise<void>((r) => elsewhere.listen(0, '127.0.0.1', r));
    const elsewhereUrl = `http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}`;
    const redirector: Server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(req.url?.includes('temp') === true ? 307 : 302, {
          location: `${elsewhereUrl}/login`,
        });
        res.end();
      });
    });
    await new Promise<void>((r) => redirector.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(redirector.address() as AddressInfo).port}`;
    try {
      for (const path of ['/found', '/temp']) {
        const c = client({ baseUrl: `${base}${path}` });
        const err = await c.sendStates(agents(1)).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(RtaHttpError);
        expect(err).toMatchObject({
          fatal: true,
          report: { acceptedRequests: 0, statesSent: 0, requests: 1 },
        });
        expect((err as Error).message).toContain(`a redirect to ${elsewhereUrl}/login`);
        expectNoSecret(err, []);
      }
      expect(seen).toEqual([]);
    } finally {
      elsewhere.close();
      redirector.close();
    }
  });

  it('does not retry 501 and 505, which a retry cannot change', async () => {
    const c = client();
    for (const status of [501, 505]) {
      const before = rta.requests.length;
      rta.failNext(1, status, 'Not Implemented');
      const err = await c.sendStates(agents(1)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RtaHttpError);
      expect(err).toMatchObject({ status, fatal: true });
      expect(rta.requests.length - before).toBe(1);
    }
  });

  it('keeps the key out of the client object itself', () => {
    const c = client();

    expect(JSON.stringify(c)).not.toContain(SECRET);
    expect(Object.values(c).join(' ')).not.toContain(SECRET);
  });

  it('answers a non-API status (404 wrong path) with a fatal RtaHttpError without retrying', async () => {
    const c = new TeleoptiRtaClient({
      baseUrl: `${rta.url}/wrong/base`,
      authenticationKey: 'the-right-key',
      sourceId: '1',
    });
    clients.push(c);

    const err = await c.sendStates(agents(1)).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(RtaHttpError);
    expect(err).toMatchObject({ status: 404, fatal: true });
    expect(rta.requests).toHaveLength(1);
  });

  it('refuses states the server would answer 500 forever, before sending anything', async () => {
    const c = client();
    const bad = [
      { userCode: 'a', stateCode: '', stateDescription: '' },
      { userCode: 'b', stateCode: 'x'.repeat(301), stateDescription: '' },
      { userCode: 'ok', stateCode: 'Available', stateDescription: 'Available' },
    ];

    const err = await c.sendStates(bad).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(InvalidStateError);
    expect((err as InvalidStateError).userCodes).toEqual(['a', 'b']);
    expect((err as Error).message).toMatch(/301 characters/);
    expect(rta.requests).toHaveLength(0);
  });

  it('stops a retry loop when the client is closed', async () => {
    const c = new TeleoptiRtaClient({
      baseUrl: rta.url,
      authenticationKey: 'the-right-key',
      sourceId: '1',
      retry: { initialDelayMs: 50, maxDelayMs: 50 },
    });
    rta.flood(true);
    const sending = c.sendStates(agents(1)).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 20));

    await c.close();

    expect(await sending).toBeInstanceOf(RtaClientClosedError);
    const seen = rta.requests.length;
    await new Promise((r) => setTimeout(r, 120));
    expect(rta.requests.length).toBe(seen);
    rta.flood(false);
  });

  it('refuses to send after close()', async () => {
    const c = client();
    await c.close();

    await expect(c.sendStates(agents(1))).rejects.toBeInstanceOf(RtaClientClosedError);
  });
});
