/**
 * Replies a hostile or broken server may send: bodies of any size cost bounded memory, and
 * encoded echoes of the key never reach errors or logs (issue 19).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RetriesExhaustedError, TeleoptiRtaClient } from '../../src/index.js';
import { agents, recordingLogger } from '../helpers.js';

const GIB = 1024 ** 3;
const KEY = 'Zq7-hostile-key-4f9a2c';

/** Streams `total` bytes of `x` with back-pressure, stopping when the client goes away. */
function stream(res: ServerResponse, total: number, written: { bytes: number }): void {
  const chunk = Buffer.alloc(1024 * 1024, 'x');
  let closed = false;
  res.on('close', () => {
    closed = true;
  });
  const pump = (): void => {
    while (!closed && written.bytes < total) {
      written.bytes += chunk.length;
      if (!res.write(chunk)) {
        res.once('drain', pump);
        return;
      }
    }
    if (!closed) res.end();
  };
  pump();
}

describe('hostile replies', () => {
  let server: Server;
  let base: string;
  const written = { bytes: 0 };
  let reply: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end();
  const clients: TeleoptiRtaClient[] = [];

  function client(path: string, extra: object = {}): TeleoptiRtaClient {
    const c = new TeleoptiRtaClient({
      baseUrl: `${base}${path}`,
      authenticationKey: KEY,
      sourceId: '1',
      retry: { baseMs: 1, maxMs: 5, maxAttempts: 1 },
      ...extra,
    });
    clients.push(c);
    return c;
  }

  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => reply(req, res));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  /** Runs `fn` while sampling RSS; returns the peak growth over the starting RSS, in bytes. */
  async function peakRssGrowth(fn: () => Promise<unknown>): Promise<number> {
    const start = process.memoryUsage.rss();
    let peak = start;
    const timer = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage.rss());
    }, 10);
    try {
      await fn();
    } finally {
      clearInterval(timer);
    }
    return Math.max(peak, process.memoryUsage.rss()) - start;
  }

  it('accepts a 200 whatever its body, reading a bounded prefix of a 1 GiB reply', async () => {
    written.bytes = 0;
    reply = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(GIB) });
      stream(res, GIB, written);
    };
    let report: Awaited<ReturnType<TeleoptiRtaClient['sendStates']>> | undefined;

    const growth = await peakRssGrowth(async () => {
      report = await client('/ok').sendStates(agents(10));
    });

    expect(report?.acceptedRequests).toBe(1);
    expect(report?.statesSent).toBe(10);
    // The client stopped reading: the server could not push more than socket buffers hold.
    expect(written.bytes).toBeLessThan(256 * 1024 * 1024);
    expect(growth).toBeLessThan(200 * 1024 * 1024);
  });

  it('accepts a 200 whose body breaks off, without sending the states again', async () => {
    let requests = 0;
    reply = (_req, res) => {
      requests += 1;
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '100000' });
      res.write('partial');
      setTimeout(() => res.destroy(), 20);
    };

    const report = await client('/broken', { retry: { baseMs: 1, maxMs: 5 } }).sendStates(
      agents(2),
    );

    expect(report).toMatchObject({ acceptedRequests: 1, retries: 0, statesSent: 2 });
    expect(requests).toBe(1);
  });

  it('reads only a bounded prefix of a 1 GiB error reply and still classifies it', async () => {
    written.bytes = 0;
    reply = (_req, res) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      stream(res, GIB, written);
    };
    let err: unknown;

    const growth = await peakRssGrowth(async () => {
      err = await client('/err')
        .sendStates(agents(1))
        .catch((e: unknown) => e);
    });

    expect(err).toBeInstanceOf(RetriesExhaustedError);
    expect((err as Error).message.length).toBeLessThan(2000);
    expect(written.bytes).toBeLessThan(256 * 1024 * 1024);
    expect(growth).toBeLessThan(200 * 1024 * 1024);
  });

  it('keeps base64 and \\uXXXX copies of the key echoed by a server out of errors and logs', async () => {
    const b64 = Buffer.from(KEY).toString('base64');
    const escaped = [...KEY].map((ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
    const lower = escaped.join('');
    const upper = escaped.map((e) => `\\u${e.slice(2).toUpperCase()}`).join('');
    const messages = [
      `bad request for key ${b64}`,
      `bad request for key ${b64.replace(/=+$/, '')}.`,
      `bad request for key ${Buffer.from(KEY).toString('base64url')}`,
      `bad request for key ${lower}`,
      `bad request for key ${upper}`,
    ];
    let next = 0;
    reply = (_req, res) => {
      // The JSON string holds a literal backslash-u sequence, not an escape JSON decodes.
      const body = JSON.stringify({ Message: messages[next++ % messages.length] });
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(body);
    };
    const logger = recordingLogger();
    const c = client('/echo', { logger });

    const seen: string[] = [];
    for (let i = 0; i < messages.length; i++) {
      const report = await c.sendStates(agents(1));
      const rejected = report.rejected[0];
      seen.push(rejected?.serverMessage ?? '', rejected?.message ?? '');
    }

    const everything = JSON.stringify([seen, logger.lines]);
    expect(seen[0]).toBe('bad request for key [redacted]');
    for (const form of [KEY, b64, b64.replace(/=+$/, ''), lower, upper, '4f9a2c']) {
      expect(everything).not.toContain(form);
    }
    // The JSON-escaped form of `\uXXXX` in the log lines is covered by core's JSON forms.
    expect(everything).not.toContain(lower.replaceAll('\\', '\\\\'));
  });
});
