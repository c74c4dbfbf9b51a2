/**
 * The dashboard feed: one static page, the state as JSON (`/state`) and as server-sent events
 * every second (`/events`), and a summary line in the terminal every 5 s.
 */
import { createServer, type ServerResponse } from 'node:http';
import { DASHBOARD_HTML } from './page.js';
import type { DashboardState } from './tracker.js';

/** A running dashboard server. */
export interface Dashboard {
  /** `http://127.0.0.1:<port>/` */
  readonly url: string;
  /** Ends the event streams and closes the server. */
  stop(): Promise<void>;
}

/** The terminal summary line of a dashboard state. */
export function summaryLine(s: DashboardState): string {
  return `${s.simulatedNow.slice(11, 19)} sim | events ${s.eventsTotal} (${s.eventsPerSecond}/s) | contacts ${s.contacts} | mismatches ${s.mismatches}/${s.agents.length} | latency p50 ${s.latency.p50 ?? '-'} ms p99 ${s.latency.p99 ?? '-'} ms | files ${s.files.length} | quarantined ${s.quarantined.length}`;
}

/**
 * Serves the dashboard on 127.0.0.1.
 *
 * @example
 * const dashboard = await startDashboard({ port: 0, state: () => demoState(), log: console.log });
 * console.log(dashboard.url);
 */
export async function startDashboard(options: {
  readonly port: number;
  readonly state: () => Promise<DashboardState>;
  readonly log: (line: string) => void;
}): Promise<Dashboard> {
  const clients = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    if (req.url === '/' || req.url === '/index.html') {
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
      });
      res.end(DASHBOARD_HTML);
    } else if (req.url === '/events') {
      res.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-store',
        connection: 'keep-alive',
      });
      res.write('retry: 1000\n\n');
      clients.add(res);
      req.on('close', () => clients.delete(res));
    } else if (req.url === '/state') {
      void options.state().then((s) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(s));
      });
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(options.port, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const pushTimer = setInterval(async () => {
    if (clients.size === 0) return;
    const data = `event: state\ndata: ${JSON.stringify(await options.state())}\n\n`;
    for (const c of clients) c.write(data);
  }, 1000);
  const lineTimer = setInterval(async () => {
    options.log(summaryLine(await options.state()));
  }, 5000);
  return {
    url: `http://127.0.0.1:${port}/`,
    async stop() {
      clearInterval(pushTimer);
      clearInterval(lineTimer);
      for (const c of clients) c.end();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
