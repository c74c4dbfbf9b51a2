import type { Server as HttpServer } from 'node:http';
import { type AddressInfo, createServer, type Server as NetServer } from 'node:net';

/**
 * Asks the kernel for a free TCP port on 127.0.0.1.
 *
 * Prefer letting a server listen on port 0 directly; use this only for peers that must be
 * told their port up front (sshd, PostgreSQL).
 *
 * @example
 * const port = await freePort();
 */
export async function freePort(): Promise<number> {
  return await new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('could not determine a free port'));
        return;
      }
      const { port } = address;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Polls `check` until it resolves truthy, at most `timeoutMs`; throws with `what` otherwise.
 *
 * @example
 * await waitFor(() => portIsOpen(port), 'sshd to listen', 10_000);
 */
export async function waitFor(
  check: () => Promise<boolean> | boolean,
  what: string,
  timeoutMs = 10_000,
  intervalMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`, { cause: lastError });
}

/**
 * Starts `server` listening on 127.0.0.1 with a port chosen by the kernel and returns the port.
 *
 * @example
 * const port = await listenOnLoopback(createServer(handler));
 */
export async function listenOnLoopback(server: NetServer): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

/**
 * Closes an HTTP(S) server and drops its open connections (keep-alive and in-flight ones), so
 * that a peer's `stop()` returns promptly even while a client is waiting on it.
 *
 * @example
 * await closeServer(server);
 */
export async function closeServer(server: HttpServer): Promise<void> {
  const closed = new Promise<void>((resolve, reject) => {
    server.close((err) =>
      err && (err as NodeJS.ErrnoException).code !== 'ERR_SERVER_NOT_RUNNING'
        ? reject(err)
        : resolve(),
    );
  });
  server.closeAllConnections();
  await closed;
}
