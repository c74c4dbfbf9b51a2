/**
 * A fault-injecting HTTP proxy in front of kinesalite (or any Kinesis endpoint), for tests of
 * readers that take an injected SDK client. The real SDK client talks to the proxy, so faults
 * are parsed by the SDK exactly as real Kinesis errors are, and the SDK's own retries apply.
 *
 * It also fills two gaps of kinesalite that a reader must cope with on real Kinesis:
 * `StreamARN` is translated into `StreamName` (kinesalite ignores ARNs), and, on request,
 * `ChildShards` is added to the GetRecords response at the end of a shard (kinesalite never
 * returns it; real Kinesis does). A retention trim can be emulated per shard, and ListShards
 * answers can be held back, paginated with expiring tokens, or made to miss a shard.
 */

import { randomUUID } from 'node:crypto';
import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import {
  ACCOUNT,
  type IteratorInfo,
  isObject,
  JSON_TYPE,
  type JsonObject,
  passThrough,
  readBody,
  sendError,
  sendJson,
  streamNameFromArn,
  trimKey,
} from './kinesis-fault-wire.js';
import type {
  KinesisFault,
  KinesisFaultProxy,
  KinesisFaultProxyOptions,
  ListShardsRequest,
} from './kinesis-faults-types.js';
import { closeServer, listenOnLoopback } from './ports.js';

export type {
  FaultTarget,
  HeldListing,
  KinesisFault,
  KinesisFaultProxy,
  KinesisFaultProxyOptions,
  KinesisFaultProxyStats,
  KinesisOperation,
  ListShardsControl,
  ListShardsRequest,
} from './kinesis-faults-types.js';

interface PendingFault {
  readonly fault: KinesisFault;
  remaining: number;
}

/**
 * Starts a fault-injecting proxy on 127.0.0.1 in front of a Kinesis endpoint.
 *
 * @example
 * const kinesis = await startKinesalite();
 * const proxy = await startKinesisFaultProxy({ target: kinesis.endpoint, childShards: 'present' });
 * proxy.inject({ kind: 'throttle', times: 3 }); // next 3 GetRecords: ProvisionedThroughputExceededException
 * proxy.inject({ kind: 'expiredIterator', shardId: 'shardId-000000000001' });
 * const client = proxy.client({ maxAttempts: 2 });
 * // ... read through `client` ...
 * await proxy.stop();
 * await kinesis.stop();
 */
export async function startKinesisFaultProxy(
  options: KinesisFaultProxyOptions,
): Promise<KinesisFaultProxy> {
  const target = new URL(options.target);
  const agent = new Agent({ keepAlive: true });
  const faults: PendingFault[] = [];
  const iterators = new Map<string, IteratorInfo>();
  const trims = new Map<string, bigint>();
  const requests: Record<string, number> = {};
  const injected: Record<string, number> = {};
  const clients = new Set<KinesisClient>();
  let childShards = options.childShards ?? 'absent';
  const listings: ListShardsRequest[] = [];
  let held: { markReceived: () => void; released: Promise<void> } | undefined;
  let paginated = false;
  let expireTokens = 0;
  const pages = new Map<string, unknown[]>();
  let omitted: { shardId: string; done: () => void } | undefined;

  /** Answers the first of `shards`, with a NextToken for the rest when there is a rest. */
  const sendPage = (res: ServerResponse, shards: unknown[]): void => {
    if (shards.length <= 1) {
      sendJson(res, 200, { Shards: shards });
      return;
    }
    const next = randomUUID();
    pages.set(next, shards.slice(1));
    sendJson(res, 200, { Shards: shards.slice(0, 1), NextToken: next });
  };

  const bump = (counter: Record<string, number>, key: string): void => {
    counter[key] = (counter[key] ?? 0) + 1;
  };

  const forward = (
    headers: IncomingHttpHeaders,
    body: Buffer,
  ): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> =>
    new Promise((resolve, reject) => {
      const outHeaders: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(headers)) {
        if (v === undefined || k === 'content-length' || k === 'connection') continue;
        outHeaders[k] = v;
      }
      outHeaders['content-length'] = String(body.length);
      const req = httpRequest(
        {
          host: target.hostname,
          port: target.port,
          method: 'POST',
          path: '/',
          headers: outHeaders,
          agent,
        },
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

  /** A helper call to the target (ListShards for the ChildShards emulation). */
  const callTarget = async (
    operation: string,
    headers: IncomingHttpHeaders,
    payload: JsonObject,
  ): Promise<JsonObject | undefined> => {
    const out = await forward(
      { ...headers, 'x-amz-target': `Kinesis_20131202.${operation}`, 'content-type': JSON_TYPE },
      Buffer.from(JSON.stringify(payload), 'utf8'),
    );
    if (out.status !== 200) return undefined;
    const parsed: unknown = JSON.parse(out.body.toString('utf8'));
    return isObject(parsed) ? parsed : undefined;
  };

  const shardOf = (operation: string, input: JsonObject): IteratorInfo | undefined => {
    if (operation === 'GetRecords' && typeof input.ShardIterator === 'string') {
      return iterators.get(input.ShardIterator);
    }
    return typeof input.ShardId === 'string'
      ? { streamName: String(input.StreamName), shardId: input.ShardId }
      : undefined;
  };

  const takeFault = (operation: string, shardId: string | undefined): KinesisFault | undefined => {
    for (let i = 0; i < faults.length; i++) {
      const pending = faults[i];
      if (pending === undefined) continue;
      if ((pending.fault.operation ?? 'GetRecords') !== operation) continue;
      if (pending.fault.shardId !== undefined && pending.fault.shardId !== shardId) continue;
      pending.remaining -= 1;
      if (pending.remaining <= 0) faults.splice(i, 1);
      return pending.fault;
    }
    return undefined;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readBody(req);
    const targetHeader = String(req.headers['x-amz-target'] ?? '');
    const operation = targetHeader.split('.')[1] ?? 'Unknown';
    bump(requests, operation);

    let input: JsonObject = {};
    try {
      const parsed: unknown = body.length > 0 ? JSON.parse(body.toString('utf8')) : {};
      if (isObject(parsed)) input = parsed;
    } catch {
      // Not JSON: forward untouched, kinesalite answers as it would.
    }

    // kinesalite ignores StreamARN: give it the name the ARN carries.
    if (typeof input.StreamARN === 'string') {
      const name = streamNameFromArn(input.StreamARN);
      delete input.StreamARN;
      if (name !== undefined && input.StreamName === undefined && input.NextToken === undefined) {
        input.StreamName = name;
      }
    }

    const shard = shardOf(operation, input);
    const shardId = shard?.shardId;
    const fault = takeFault(operation, shardId);
    if (fault !== undefined) {
      bump(injected, fault.kind);
      switch (fault.kind) {
        case 'throttle':
          sendError(
            res,
            400,
            'ProvisionedThroughputExceededException',
            `Rate exceeded for shard ${shardId ?? 'unknown'} in stream under account ${ACCOUNT}.`,
          );
          return;
        case 'expiredIterator':
          sendError(
            res,
            400,
            'ExpiredIteratorException',
            `Iterator expired. The iterator was created at time ${new Date(Date.now() - 301_000).toUTCString()} while right now it is ${new Date().toUTCString()} which is further in the future than the tolerated delay of 300000 milliseconds.`,
          );
          return;
        case 'error':
          sendError(
            res,
            fault.status ?? 400,
            fault.type,
            fault.message ?? `injected ${fault.type}`,
          );
          return;
        case 'dropConnection':
          req.socket.destroy();
          return;
        case 'delay':
          await new Promise((resolve) => setTimeout(resolve, fault.ms));
          break;
      }
    }

    if (operation === 'ListShards') {
      const token = typeof input.NextToken === 'string' ? input.NextToken : undefined;
      if (paginated && token !== undefined) {
        const expired = expireTokens > 0;
        listings.push({ token: true, expired });
        if (expired) {
          expireTokens -= 1;
          sendError(
            res,
            400,
            'ExpiredNextTokenException',
            'The timestamp of the last page of ListShards results has expired.',
          );
          return;
        }
        const rest = pages.get(token) ?? [];
        pages.delete(token);
        sendPage(res, rest);
        return;
      }
      listings.push({ token: token !== undefined, expired: false });
      const hold = held;
      held = undefined;
      const upstream = await forward(req.headers, Buffer.from(JSON.stringify(input), 'utf8'));
      if (hold !== undefined) {
        hold.markReceived();
        await hold.released;
      }
      const listed: unknown =
        upstream.status === 200 ? JSON.parse(upstream.body.toString('utf8')) : undefined;
      const omit = omitted;
      if (isObject(listed) && Array.isArray(listed.Shards) && (omit !== undefined || paginated)) {
        let shards: unknown[] = listed.Shards;
        if (omit !== undefined) {
          omitted = undefined;
          shards = shards.filter((s) => !isObject(s) || s.ShardId !== omit.shardId);
        }
        if (paginated) {
          sendPage(res, shards);
        } else {
          sendJson(res, 200, { ...listed, Shards: shards });
        }
        omit?.done();
        return;
      }
      passThrough(res, upstream, upstream.body);
      return;
    }

    // Retention trim emulation.
    const trimmedAt = shard === undefined ? undefined : trims.get(trimKey(shard));
    if (operation === 'GetShardIterator' && trimmedAt !== undefined) {
      const type = input.ShardIteratorType;
      const start = input.StartingSequenceNumber;
      if (
        (type === 'AT_SEQUENCE_NUMBER' || type === 'AFTER_SEQUENCE_NUMBER') &&
        typeof start === 'string' &&
        /^\d+$/.test(start) &&
        BigInt(start) < trimmedAt
      ) {
        bump(injected, 'trimmedSequenceNumber');
        sendError(
          res,
          400,
          'InvalidArgumentException',
          `StartingSequenceNumber ${start} used in GetShardIterator on shard ${shardId} in stream ${String(input.StreamName)} under account ${ACCOUNT} is invalid because it is no longer available: the record was trimmed from the stream (retention period exceeded).`,
        );
        return;
      }
      if (type === 'TRIM_HORIZON') {
        input.ShardIteratorType = 'AT_SEQUENCE_NUMBER';
        input.StartingSequenceNumber = trimmedAt.toString();
      }
    }

    const upstream = await forward(req.headers, Buffer.from(JSON.stringify(input), 'utf8'));
    let outBody = upstream.body;
    if (
      upstream.status === 200 &&
      (operation === 'GetShardIterator' || operation === 'GetRecords')
    ) {
      const parsed: unknown = JSON.parse(upstream.body.toString('utf8'));
      if (isObject(parsed)) {
        const info: IteratorInfo | undefined =
          operation === 'GetShardIterator'
            ? { streamName: String(input.StreamName), shardId: String(input.ShardId) }
            : typeof input.ShardIterator === 'string'
              ? iterators.get(input.ShardIterator)
              : undefined;
        const next =
          operation === 'GetShardIterator' ? parsed.ShardIterator : parsed.NextShardIterator;
        if (typeof next === 'string' && info !== undefined) iterators.set(next, info);
        if (operation === 'GetRecords' && info !== undefined) {
          const trimmed = trims.get(trimKey(info));
          if (trimmed !== undefined && Array.isArray(parsed.Records)) {
            parsed.Records = parsed.Records.filter(
              (r: unknown) =>
                !isObject(r) ||
                typeof r.SequenceNumber !== 'string' ||
                BigInt(r.SequenceNumber) >= trimmed,
            );
          }
          if (childShards === 'present' && typeof next !== 'string') {
            const listed = await callTarget('ListShards', req.headers, {
              StreamName: info.streamName,
            });
            const shards = Array.isArray(listed?.Shards) ? listed.Shards.filter(isObject) : [];
            parsed.ChildShards = shards
              .filter(
                (s) => s.ParentShardId === info.shardId || s.AdjacentParentShardId === info.shardId,
              )
              .map((s) => ({
                ShardId: s.ShardId,
                ParentShards: [s.ParentShardId, s.AdjacentParentShardId].filter(
                  (p) => typeof p === 'string',
                ),
                HashKeyRange: s.HashKeyRange,
              }));
          }
        }
        outBody = Buffer.from(JSON.stringify(parsed), 'utf8');
      }
    }
    passThrough(res, upstream, outBody);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent || res.destroyed) {
        res.destroy();
        return;
      }
      sendError(res, 500, 'InternalFailure', `fault proxy failed: ${String(err)}`);
    });
  });
  const port = await listenOnLoopback(server);
  const endpoint = `http://127.0.0.1:${port}`;

  return {
    endpoint,
    client(config = {}) {
      const c = new KinesisClient({
        endpoint,
        region: options.region ?? 'us-east-1',
        credentials: options.credentials ?? {
          accessKeyId: 'local',
          secretAccessKey: 'local-secret',
        },
        requestHandler: new NodeHttpHandler(),
        ...config,
      });
      clients.add(c);
      return c;
    },
    inject(fault) {
      const times = fault.times ?? 1;
      if (!Number.isInteger(times) || times < 1) {
        throw new Error(`fault.times must be a positive integer, got ${String(fault.times)}`);
      }
      faults.push({ fault, remaining: times });
    },
    clearFaults() {
      faults.length = 0;
    },
    setChildShards(mode) {
      childShards = mode;
    },
    trim(streamName, shardId, firstRetainedSequenceNumber) {
      trims.set(trimKey({ streamName, shardId }), BigInt(firstRetainedSequenceNumber));
    },
    listShards: {
      requests: listings,
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
      paginate(expire = 0) {
        paginated = true;
        expireTokens = expire;
      },
      omit(shardId) {
        return new Promise<void>((done) => {
          omitted = { shardId, done };
        });
      },
    },
    stats() {
      return { requests: { ...requests }, injected: { ...injected } };
    },
    async stop() {
      for (const c of clients) c.destroy();
      clients.clear();
      await closeServer(server);
      agent.destroy();
    },
  };
}
