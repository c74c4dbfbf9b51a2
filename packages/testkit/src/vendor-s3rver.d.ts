// Ambient types for s3rver 3.x, which ships none. Only what packages/testkit/src/s3.ts uses.
declare module 's3rver' {
  import type { IncomingMessage, Server } from 'node:http';
  import type { AddressInfo } from 'node:net';

  namespace S3rver {
    interface Options {
      address?: string;
      port?: number;
      silent?: boolean;
      directory?: string;
      resetOnClose?: boolean;
      allowMismatchedSignatures?: boolean;
      vhostBuckets?: boolean;
      serviceEndpoint?: string;
      configureBuckets?: ReadonlyArray<{ name: string; configs?: ReadonlyArray<string | Buffer> }>;
    }

    /** The subset of a Koa context the testkit's middleware touches. */
    interface KoaContext {
      req: IncomingMessage | NodeJS.ReadableStream;
      headers: Record<string, string | string[] | undefined>;
      method: string;
      path: string;
    }

    type Middleware = (ctx: KoaContext, next: () => Promise<void>) => Promise<void>;

    /** One S3 event as s3rver emits it on `'event'`. */
    interface Event {
      Records: Array<{
        eventVersion: string;
        eventSource: string;
        awsRegion: string;
        eventTime: string;
        eventName: string;
        s3: {
          bucket: { name: string; arn: string };
          object: { key: string; size?: number; eTag?: string; sequencer: string };
        };
      }>;
    }
  }

  class S3rver {
    constructor(options?: S3rver.Options);
    /** Koa's middleware list; composed when the HTTP server starts. */
    middleware: S3rver.Middleware[];
    httpServer: Server | undefined;
    run(): Promise<AddressInfo>;
    close(): Promise<void>;
    on(event: 'event', listener: (event: S3rver.Event) => void): this;
    on(event: 'error', listener: (err: Error) => void): this;
  }

  export = S3rver;
}
