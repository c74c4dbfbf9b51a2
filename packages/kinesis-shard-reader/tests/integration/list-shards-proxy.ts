/**
 * A small proxy on 127.0.0.1 in front of a Kinesis endpoint (kinesalite or the testkit's fault
 * proxy) that speaks the Kinesis JSON wire protocol to the real SDK client and changes only
 * ListShards answers, to produce what kinesalite cannot:
 * - `hold()`: the next ListShards is forwarded at once, but its answer is held back until
 *   released (a listing taken before a split that arrives after it);
 * - `paginate(expireTokens)`: ListShards answers one shard per page with a NextToken, and the
 *   next `expireTokens` requests carrying a token are answered `ExpiredNextTokenException`;
 * - `omit(shardId)`: the next ListShards answer leaves that shard out (a glitch of one listing).
 */
import { randomUUID } from 'node:crypto';
import {
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { closeServer, listenOnLoopback } from '@connect-wfm/testkit';

interface Upstream {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A held ListShards answer. */
export interface HeldListing {
  /** Resolves once the held request was received (and forwarded). */
  readonly received: Promise<void>;
  /** Sends the held answer. */
  release(): void;
}

/** The running proxy. */
export interface ListShardsProxy {
  readonly endpoint: string;
  /** ListShards requests seen, in order: whether each carried a NextToken. */
  readonly listings: Array<{ token: boolean; expired: boolean }>;
  hold(): HeldListing;
  paginate(expireTokens: number): void;
  /** Leaves `shardId` out of the next ListShards answer; resolves once that answer was sent. */
  omit(shardId: string): Promise<void>;
  stop(): Promise<void>;
}

async function readBody(stream: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const payload = Buffer.from(JSON.stringify(body), 'utf8');
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.1',
    'content-length': payload.length,
    'x-amzn-requestid': randomUUID(),
  });
  res.end(payload);
}

export async function startListShardsProxy(target: string): Promise<ListShardsProxy> {
  const url = new URL(target);
  const listings: Array<{ token: boolean; expired: boolean }> = [];
  let held: { markReceived: () => void; released: Promise<void> } | undefined;
  let paginated = false;
  let expireTokens = 0;
  const pages = new Map<string, unknown[]>();
  let omitted: { shardId: string; done: () => void } | undefined;

  const forward = (headers: IncomingHttpHeaders, body: Buffer): Promise<Upstream> =>
    new Promise((resolve, reject) => {
      const out: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(headers)) {
        if (v !== undefined && k !== 'content-length' && k !== 'connection') out[k] = v;
      }
      out['content-length'] = String(body.length);
      const req = httpRequest(
        { host: url.hostname, port: url.port, method: 'POST', path: '/', headers: out },
        (res) => {
          readBody(res).then(
            (b) => resolve({ status: res.statusCode ?? 500, headers: res.headers, body: b }),
            reject,
          );
        },
      );
      req.once('error', reject);
      req.end(body);
    });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readBody(req);
    const operation = String(req.headers['x-amz-target'] ?? '').split('.')[1];
    if (operation === 'ListShards') {
      const input = JSON.parse(body.toString('utf8')) as { NextToken?: string };
      const token = input.NextToken;
      if (paginated && token !== undefined) {
        const expired = expireTokens > 0;
        listings.push({ token: true, expired });
        if (expired) {
          expireTokens -= 1;
          send(res, 400, {
            __type: 'ExpiredNextTokenException',
            message: 'The timestamp of the last page of ListShards results has expired.',
          });
          return;
        }
        const rest = pages.get(token) ?? [];
        pages.delete(token);
        send(res, 200, { Shards: rest });
        return;
      }
      listings.push({ token: token !== undefined, expired: false });
      const hold = held;
      held = undefined;
      const upstream = await forward(req.headers, body);
      if (hold !== undefined) {
        hold.markReceived();
        await hold.released;
      }
      const omit = omitted;
      if (omit !== undefined && upstream.status === 200) {
        omitted = undefined;
        const parsed = JSON.parse(upstream.body.toString('utf8')) as {
          Shards?: Array<{ ShardId?: string }>;
        };
        send(res, 200, {
          ...parsed,
          Shards: (parsed.Shards ?? []).filter((s) => s.ShardId !== omit.shardId),
        });
        omit.done();
        return;
      }
      if (paginated && upstream.status === 200) {
        const parsed = JSON.parse(upstream.body.toString('utf8')) as { Shards?: unknown[] };
        const shards = parsed.Shards ?? [];
        if (shards.length > 1) {
          const next = randomUUID();
          pages.set(next, shards.slice(1));
          send(res, 200, { Shards: shards.slice(0, 1), NextToken: next });
          return;
        }
      }
      res.writeHead(upstream.status, {
        'content-type': String(upstream.headers['content-type'] ?? 'application/x-amz-json-1.1'),
        'content-length': upstream.body.length,
      });
      res.end(upstream.body);
      return;
    }
    const upstream = await forward(req.headers, body);
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(upstream.headers)) {
      if (v === undefined || k === 'content-length' || k === 'connection') continue;
      if (k === 'transfer-encoding') continue;
      headers[k] = v;
    }
    headers['content-length'] = String(upstream.body.length);
    res.writeHead(upstream.status, headers);
    res.end(upstream.body);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent) res.destroy();
      else send(res, 500, { __type: 'InternalFailure', message: String(err) });
    });
  });
  const port = await listenOnLoopback(server);
  return {
    endpoint: `http://127.0.0.1:${port}`,
    listings,
    hold() {
      let markReceived: () => void = () => {};
      let release: () => void = () => {};
      const received = new Promise<void>((r) => {
        markReceived = r;
      });
      const released = new Promise<void>((r) => {
        release = r;
      });
      held = { markReceived, released };
      return { received, release };
    },
    omit(shardId) {
      return new Promise<void>((done) => {
        omitted = { shardId, done };
      });
    },
    paginate(expire) {
      paginated = true;
      expireTokens = expire;
    },
    async stop() {
      await closeServer(server);
    },
  };
}
