// Faults OpenSSH cannot produce, on 127.0.0.1 only: a small ssh2 SFTP server that can leave a
// channel open unanswered, and a TCP proxy that delays the server's bytes (a slow link).
import {
  createServer,
  type Server as NetServer,
  connect as netConnect,
  type Socket,
} from 'node:net';
import { ed25519KeyPair } from '@connect-wfm/testkit';
import ssh2 from 'ssh2';

const OK = 0;
const NO_SUCH_FILE = 2;
const FAILURE = 4;
const OP_UNSUPPORTED = 8;

/** How the fake server misbehaves. */
export interface FakeServerOptions {
  /** Never answer the session channel open. */
  hangSession?: boolean;
  /** Accept the session, never answer the `sftp` subsystem request. */
  hangSftpInit?: boolean;
  /** SFTP status to answer a RENAME with (`undefined`: do the rename). */
  renameStatus?: (from: string, to: string) => number | undefined;
  /**
   * Carry out this RENAME, then drop the connection without answering (a lost reply). `files`
   * may be changed by the hook (a server-side consumer picking the file up, say).
   */
  dropAfterRename?: (from: string, to: string, files: Map<string, Buffer>) => boolean;
  /** Drop the connection on this REMOVE, without carrying it out. */
  dropOnRemove?: (path: string) => boolean;
  /** SFTP status to answer a REMOVE with (`undefined`: do the remove). */
  removeStatus?: (path: string) => number | undefined;
}

/** A running fake server: an in-memory file system under `/up`, password `pw`. */
export interface FakeServer {
  port: number;
  files: Map<string, Buffer>;
  close(): Promise<void>;
}

export async function startFakeServer(options: FakeServerOptions = {}): Promise<FakeServer> {
  const hostKey = ed25519KeyPair().private;
  const files = new Map<string, Buffer>();
  const dirs = new Set<string>(['/', '/up']);
  const clients = new Set<ssh2.Connection>();
  const server = new ssh2.Server({ hostKeys: [hostKey] }, (client) => {
    clients.add(client);
    client.on('close', () => clients.delete(client));
    client.on('error', () => {});
    client.on('authentication', (ctx) => {
      if (ctx.method === 'password' && ctx.password === 'pw') ctx.accept();
      else ctx.reject(['password']);
    });
    client.on('ready', () => {
      client.on('session', (accept) => {
        if (options.hangSession) return; // neither accepted nor rejected
        const session = accept();
        session.on('sftp', (acceptSftp) => {
          if (options.hangSftpInit) return;
          const sftp = acceptSftp();
          const handles = new Map<string, string>();
          let next = 0;
          const norm = (p: string) => (p.startsWith('/') ? p : `/up/${p}`);
          const parent = (p: string) => p.slice(0, p.lastIndexOf('/')) || '/';
          const attrs = (size: number, dir: boolean) => ({
            mode: dir ? 0o040755 : 0o100644,
            uid: 0,
            gid: 0,
            size,
            atime: 0,
            mtime: 0,
          });
          const stat = (id: number, p: string) => {
            const n = norm(p);
            if (dirs.has(n)) return sftp.attrs(id, attrs(0, true));
            const f = files.get(n);
            if (f) return sftp.attrs(id, attrs(f.length, false));
            return sftp.status(id, NO_SUCH_FILE);
          };
          sftp.on('STAT', stat);
          sftp.on('LSTAT', stat); // no links on this server
          sftp.on('FSTAT', (id, h) => {
            const n = handles.get(h.toString());
            if (n === undefined) return sftp.status(id, FAILURE);
            return stat(id, n);
          });
          sftp.on('OPEN', (id, p, flags) => {
            const n = norm(p);
            if (!dirs.has(parent(n))) return sftp.status(id, NO_SUCH_FILE);
            const exists = files.has(n) || dirs.has(n);
            if (exists && flags & 0x20) return sftp.status(id, FAILURE); // O_CREAT|O_EXCL
            if (!exists && !(flags & 0x08)) return sftp.status(id, NO_SUCH_FILE);
            if (!exists || flags & 0x10) files.set(n, Buffer.alloc(0));
            const h = Buffer.from(String(next++));
            handles.set(h.toString(), n);
            return sftp.handle(id, h);
          });
          sftp.on('WRITE', (id, h, offset, data) => {
            const n = handles.get(h.toString());
            if (n === undefined) return sftp.status(id, FAILURE);
            let f = files.get(n) ?? Buffer.alloc(0);
            if (f.length < offset + data.length) {
              const g = Buffer.alloc(offset + data.length);
              f.copy(g);
              f = g;
            }
            data.copy(f, offset);
            files.set(n, f);
            return sftp.status(id, OK);
          });
          sftp.on('FSETSTAT', (id) => sftp.status(id, OK));
          sftp.on('CLOSE', (id, h) => {
            handles.delete(h.toString());
            sftp.status(id, OK);
          });
          sftp.on('REMOVE', (id, p) => {
            if (options.dropOnRemove?.(norm(p))) return client.end();
            const forced = options.removeStatus?.(norm(p));
            if (forced !== undefined) return sftp.status(id, forced);
            return sftp.status(id, files.delete(norm(p)) ? OK : NO_SUCH_FILE);
          });
          sftp.on('RENAME', (id, a, b) => {
            const from = norm(a);
            const to = norm(b);
            const forced = options.renameStatus?.(from, to);
            if (forced !== undefined) return sftp.status(id, forced);
            const f = files.get(from);
            if (f === undefined) return sftp.status(id, NO_SUCH_FILE);
            if (files.has(to) || dirs.has(to)) return sftp.status(id, FAILURE); // SFTPv3: no overwrite
            files.set(to, f);
            files.delete(from);
            if (options.dropAfterRename?.(from, to, files)) return client.end();
            return sftp.status(id, OK);
          });
          sftp.on('EXTENDED', (id) => sftp.status(id, OP_UNSUPPORTED));
        });
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    port,
    files,
    close: async () => {
      for (const c of clients) c.end();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A TCP proxy on 127.0.0.1 that delays every server-to-client byte by `delayMs`. */
export interface LatencyProxy {
  port: number;
  close(): Promise<void>;
}

export async function startLatencyProxy(
  targetPort: number,
  delayMs: number,
): Promise<LatencyProxy> {
  const sockets = new Set<Socket>();
  const server: NetServer = createServer((client) => {
    const upstream = netConnect(targetPort, '127.0.0.1');
    sockets.add(client);
    sockets.add(upstream);
    upstream.on('data', (d) =>
      setTimeout(() => {
        if (!client.destroyed) client.write(d);
      }, delayMs),
    );
    client.on('data', (d) => upstream.write(d));
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', end);
    upstream.on('close', () => setTimeout(end, delayMs + 10));
    client.on('error', end);
    upstream.on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
