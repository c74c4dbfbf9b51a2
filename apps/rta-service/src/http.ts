/** The operator HTTP endpoint: /healthz, /readyz, /metrics. */
import { createServer, type Server } from 'node:http';
import type { RtaMetrics } from './metrics.js';

/** What /readyz reports. */
export interface Readiness {
  readonly ready: boolean;
  readonly role: 'starting' | 'standby' | 'leader' | 'stopping';
  readonly detail: string;
}

/** Starts the endpoint; resolves with the server and the port it listens on. */
export async function startHttp(
  host: string,
  port: number,
  metrics: RtaMetrics,
  readiness: () => Readiness,
): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}\n');
    } else if (path === '/readyz') {
      const r = readiness();
      res
        .writeHead(r.ready ? 200 : 503, { 'content-type': 'application/json' })
        .end(`${JSON.stringify(r)}\n`);
    } else if (path === '/metrics') {
      metrics.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
        () => res.writeHead(500).end(),
      );
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  return { server, port: typeof address === 'object' && address !== null ? address.port : port };
}
