/**
 * DynamoDB for tests, benchmarks and the demo: dynalite (a DynamoDB implementation on LevelDB,
 * here in memory) on 127.0.0.1 with a port chosen at run time, driven by the real AWS SDK v3
 * client.
 */

import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { LocalCredentials } from './kinesis.js';
import { closeServer, listenOnLoopback } from './ports.js';

/** Options of {@link startDynalite}. */
export interface DynaliteOptions {
  /** How long a new table stays CREATING, in ms. @default 0 */
  readonly createTableMs?: number;
  /** How long a deleted table stays DELETING, in ms. @default 0 */
  readonly deleteTableMs?: number;
  /** How long a table stays UPDATING after UpdateTable, in ms. @default 0 */
  readonly updateTableMs?: number;
  /** Largest item accepted, in KB (real DynamoDB: 400). @default 400 */
  readonly maxItemSizeKb?: number;
}

/** A running dynalite. */
export interface DynaliteServer {
  /** `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  /** Region to configure clients with. */
  readonly region: string;
  /** Credentials to configure clients with (dynalite checks only that a signature exists). */
  readonly credentials: LocalCredentials;
  /**
   * A DynamoDB client for this server (HTTP/1.1 `NodeHttpHandler`, endpoint, region and
   * credentials set; `config` overrides). Destroyed by `stop()`.
   */
  client(config?: Partial<DynamoDBClientConfig>): DynamoDBClient;
  /** Destroys every client made by `client()` and stops the server. */
  stop(): Promise<void>;
}

interface DynaliteFactoryOptions {
  createTableMs: number;
  deleteTableMs: number;
  updateTableMs: number;
  maxItemSizeKb: number;
}

type DynaliteFactory = (options: DynaliteFactoryOptions) => Server;

const require = createRequire(import.meta.url);
const REGION = 'us-east-1';
const CREDENTIALS: LocalCredentials = { accessKeyId: 'local', secretAccessKey: 'local-secret' };

/**
 * Starts dynalite in memory on 127.0.0.1 with a free port.
 *
 * Known gaps of dynalite 4 (real DynamoDB differs): no `TransactWriteItems`/`TransactGetItems`,
 * no PartiQL, no streams, no TTL expiry, no `ReturnValuesOnConditionCheckFailure`; throughput
 * is never throttled.
 *
 * @example
 * const dynamo = await startDynalite();
 * const client = dynamo.client();
 * await client.send(new ListTablesCommand({}));
 * await dynamo.stop();
 */
export async function startDynalite(options: DynaliteOptions = {}): Promise<DynaliteServer> {
  const dynalite = require('dynalite') as DynaliteFactory;
  const server = dynalite({
    createTableMs: options.createTableMs ?? 0,
    deleteTableMs: options.deleteTableMs ?? 0,
    updateTableMs: options.updateTableMs ?? 0,
    maxItemSizeKb: options.maxItemSizeKb ?? 400,
  });
  const port = await listenOnLoopback(server);
  const endpoint = `http://127.0.0.1:${port}`;
  const clients = new Set<DynamoDBClient>();
  let stopped: Promise<void> | undefined;

  return {
    endpoint,
    region: REGION,
    credentials: CREDENTIALS,

    client(config: Partial<DynamoDBClientConfig> = {}): DynamoDBClient {
      const c = new DynamoDBClient({
        endpoint,
        region: REGION,
        credentials: CREDENTIALS,
        requestHandler: new NodeHttpHandler(),
        ...config,
      });
      clients.add(c);
      return c;
    },

    stop(): Promise<void> {
      stopped ??= (async () => {
        for (const c of clients) c.destroy();
        clients.clear();
        await closeServer(server);
      })();
      return stopped;
    },
  };
}
