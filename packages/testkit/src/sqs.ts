import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs';
import { listenOnLoopback } from './ports.js';
import {
  batchEntries,
  int,
  type Json,
  LocalQueue,
  type Msg,
  queueAttributes,
  renderMessage,
  SQS_FAULTS,
  SqsFault,
  str,
} from './sqs-queue.js';

export { sqsAttributesMd5 } from './sqs-queue.js';

/** Options for {@link startSqs}. */
export interface SqsPeerOptions {
  /**
   * Standard queues to create at start (default attributes: VisibilityTimeout 30 s).
   * @default []
   */
  queues?: readonly string[];
  /**
   * Region in queue ARNs and client configuration.
   * @default 'us-east-1'
   */
  region?: string;
  /**
   * Reject requests without a SigV4 `Authorization` header (signatures are not verified).
   * @default true
   */
  requireSignature?: boolean;
}

/** A message attribute as SQS carries it (`BinaryValue` base64-encoded, as on the wire). */
export interface SqsMessageAttribute {
  /** `String`, `Number` or `Binary`, optionally with a custom suffix (`String.json`). */
  DataType: string;
  /** Value of `String` and `Number` attributes. */
  StringValue?: string;
  /** Base64 value of `Binary` attributes. */
  BinaryValue?: string;
}

/** A snapshot of one message in a queue, from {@link SqsPeer.messages}. */
export interface SqsMessageState {
  /** The message id SendMessage returned. */
  messageId: string;
  /** The body as sent. */
  body: string;
  /** User message attributes as sent. */
  messageAttributes: Record<string, SqsMessageAttribute>;
  /** How many times ReceiveMessage returned it. */
  receiveCount: number;
  /** `true` while received and within its visibility timeout. */
  inFlight: boolean;
  /** `true` while not yet visible because of `DelaySeconds` (never received). */
  delayed: boolean;
  /** When it becomes (or became) visible, epoch ms. */
  visibleAt: number;
  /** When it was sent, epoch ms. */
  sentAt: number;
}

/** A running local SQS endpoint, see {@link startSqs}. */
export interface SqsPeer {
  /** `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  /** Region for clients and ARNs. */
  readonly region: string;
  /** Dummy credentials (any non-empty values work). */
  readonly credentials: { accessKeyId: string; secretAccessKey: string };
  /** A new `SQSClient` for this endpoint (`overrides` merged in); destroyed by `stop()`. */
  client(overrides?: Partial<SQSClientConfig>): SQSClient;
  /** Creates a queue (or returns the URL of an existing one) without going through HTTP. */
  createQueue(name: string, attributes?: Record<string, string>): string;
  /** The URL of a queue, `<endpoint>/000000000000/<name>` (whether or not it exists). */
  queueUrl(name: string): string;
  /** The queue's `arn:aws:sqs:<region>:000000000000:<name>`. */
  queueArn(name: string): string;
  /** Snapshot of the messages still in a queue, oldest first. Throws if the queue is unknown. */
  messages(name: string): SqsMessageState[];
  /** Puts a message on a queue without HTTP (e.g. from an S3 notification); returns its id. */
  enqueue(name: string, body: string, attributes?: Record<string, SqsMessageAttribute>): string;
  /** Number of requests answered, optionally only those of one operation. */
  requestCount(operation?: string): number;
  /** Ends pending long polls (empty responses), closes the server, destroys the clients. Idempotent. */
  stop(): Promise<void>;
}

const ACCOUNT = '000000000000';
const MAX_BODY = 2 * 1024 * 1024;
const SIGV4 = /^AWS4-HMAC-SHA256 Credential=\S+/;

/**
 * Starts a local Amazon SQS endpoint on 127.0.0.1 (a free port) that speaks the AWS JSON 1.0
 * protocol to `@aws-sdk/client-sqs`: queues (Create/Delete/Purge/List, GetQueueUrl, Get/Set
 * attributes), SendMessage(Batch), ReceiveMessage with long polling, visibility timeouts and
 * redelivery, DeleteMessage(Batch), ChangeMessageVisibility(Batch), and RedrivePolicy.
 *
 * @example
 * const sqs = await startSqs({ queues: ['ctr-events'] });
 * const client = sqs.client();
 * await client.send(new SendMessageCommand({ QueueUrl: sqs.queueUrl('ctr-events'), MessageBody: 'hi' }));
 * await sqs.stop();
 */
export async function startSqs(options: SqsPeerOptions = {}): Promise<SqsPeer> {
  const region = options.region ?? 'us-east-1';
  const requireSignature = options.requireSignature ?? true;
  const queues = new Map<string, LocalQueue>();
  const handles = new Map<string, { queue: LocalQueue; msg: Msg }>();
  const wakers = new Set<() => void>();
  const operations: string[] = [];
  let active = 0;
  let stopped = false;
  let endpoint = '';

  const queueUrl = (name: string) => `${endpoint}/${ACCOUNT}/${name}`;
  const queueArn = (name: string) => `arn:aws:sqs:${region}:${ACCOUNT}:${name}`;
  /** Lets every pending long poll look at its queue again. */
  const wake = () => {
    for (const w of [...wakers]) w();
  };

  function createQueue(name: string, raw: unknown): string {
    if (!/^[\w-]{1,80}$/.test(name)) {
      throw new SqsFault(
        'InvalidParameterValue',
        `Queue name "${name}" must be 1-80 letters, digits, - or _ (FIFO queues are not supported).`,
      );
    }
    const attributes = queueAttributes(raw);
    const existing = queues.get(name);
    if (existing && !existing.matches(attributes)) {
      throw new SqsFault('QueueNameExists', `Queue ${name} exists with different attributes.`);
    }
    if (!existing) queues.set(name, new LocalQueue(name, attributes));
    return queueUrl(name);
  }

  function queueOf(body: Json): LocalQueue {
    const url = str(body, 'QueueUrl');
    const queue = queues.get(/\/\d{12}\/([\w-]+)\/?$/.exec(url)?.[1] ?? url);
    if (!queue)
      throw new SqsFault('QueueDoesNotExist', `The specified queue does not exist: ${url}`);
    return queue;
  }

  function send(queue: LocalQueue, entry: Json): Json {
    const result = queue.send(entry);
    wake();
    return result;
  }

  function take(queue: LocalQueue, max: number, visibility: number): Msg[] {
    const deadLetter = queue.redrive && queues.get(queue.redrive.arn.split(':').pop() ?? '');
    const taken = queue.take(max, visibility, deadLetter);
    for (const msg of taken) handles.set(msg.receiptHandle as string, { queue, msg });
    return taken;
  }

  /** ReceiveMessage: long-polls up to WaitTimeSeconds, ends early on a message, `stop()` or hang-up. */
  async function receive(queue: LocalQueue, body: Json, res: ServerResponse): Promise<Json> {
    const max = int(body, 'MaxNumberOfMessages', 1, 10, 1);
    const visibility = int(body, 'VisibilityTimeout', 0, 43_200, queue.num('VisibilityTimeout'));
    const wait = int(body, 'WaitTimeSeconds', 0, 20, queue.num('ReceiveMessageWaitTimeSeconds'));
    const deadline = Date.now() + wait * 1000;
    let gone = false;
    res.once('close', () => {
      gone = true;
      wake();
    });
    for (;;) {
      const taken = stopped || gone ? [] : take(queue, max, visibility);
      const now = Date.now();
      if (taken.length > 0 || now >= deadline || stopped || gone) {
        return taken.length > 0 ? { Messages: taken.map((m) => renderMessage(m, body)) } : {};
      }
      const until = Math.min(deadline, queue.nextVisibleAt(now));
      await new Promise<void>((done) => {
        const waker = () => {
          clearTimeout(timer);
          wakers.delete(waker);
          done();
        };
        const timer = setTimeout(waker, Math.max(1, until - now));
        wakers.add(waker);
      });
    }
  }

  function handleOf(queue: LocalQueue, entry: Json): Msg {
    const found = handles.get(str(entry, 'ReceiptHandle'));
    if (!found || found.queue !== queue) {
      throw new SqsFault('ReceiptHandleIsInvalid', 'The input receipt handle is invalid.');
    }
    return found.msg;
  }

  function remove(queue: LocalQueue, entry: Json): Json {
    queue.remove(handleOf(queue, entry), entry.ReceiptHandle);
    return {};
  }

  function changeVisibility(queue: LocalQueue, entry: Json): Json {
    const msg = handleOf(queue, entry);
    const seconds = int(entry, 'VisibilityTimeout', 0, 43_200);
    queue.changeVisibility(msg, entry.ReceiptHandle, seconds);
    if (seconds === 0) wake();
    return {};
  }

  /** A batch operation: per-entry results, entry errors reported in `Failed`. */
  function batch(queue: LocalQueue, body: Json, fn: (q: LocalQueue, e: Json) => Json): Json {
    const Successful: Json[] = [];
    const Failed: Json[] = [];
    for (const entry of batchEntries(body)) {
      try {
        Successful.push({ Id: entry.Id, ...fn(queue, entry) });
      } catch (err) {
        if (!(err instanceof SqsFault)) throw err;
        Failed.push({ Id: entry.Id, SenderFault: true, Code: err.type, Message: err.message });
      }
    }
    return { Successful, Failed };
  }

  async function handle(operation: string, body: Json, res: ServerResponse): Promise<Json> {
    switch (operation) {
      case 'CreateQueue':
        return { QueueUrl: createQueue(str(body, 'QueueName'), body.Attributes) };
      case 'GetQueueUrl': {
        const name = str(body, 'QueueName');
        if (!queues.has(name)) throw new SqsFault('QueueDoesNotExist', `No queue named ${name}.`);
        return { QueueUrl: queueUrl(name) };
      }
      case 'ListQueues': {
        const prefix = typeof body.QueueNamePrefix === 'string' ? body.QueueNamePrefix : '';
        return { QueueUrls: [...queues.keys()].filter((n) => n.startsWith(prefix)).map(queueUrl) };
      }
      case 'DeleteQueue':
        queues.delete(queueOf(body).name);
        return {};
      case 'PurgeQueue':
        queueOf(body).messages.length = 0;
        return {};
      case 'GetQueueAttributes': {
        const queue = queueOf(body);
        return { Attributes: queue.describe(body.AttributeNames, queueArn(queue.name)) };
      }
      case 'SetQueueAttributes': {
        const queue = queueOf(body);
        Object.assign(queue.attributes, queueAttributes(body.Attributes));
        queue.modified = Date.now();
        return {};
      }
      case 'SendMessage':
        return send(queueOf(body), body);
      case 'SendMessageBatch':
        return batch(queueOf(body), body, send);
      case 'ReceiveMessage':
        return await receive(queueOf(body), body, res);
      case 'DeleteMessage':
        return remove(queueOf(body), body);
      case 'DeleteMessageBatch':
        return batch(queueOf(body), body, remove);
      case 'ChangeMessageVisibility':
        return changeVisibility(queueOf(body), body);
      case 'ChangeMessageVisibilityBatch':
        return batch(queueOf(body), body, changeVisibility);
      default:
        throw new SqsFault(
          'UnsupportedOperation',
          `The testkit SQS does not implement ${operation}.`,
        );
    }
  }

  async function readJson(req: IncomingMessage): Promise<Json> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_BODY) throw new SqsFault('InvalidParameterValue', 'Request body too large.');
      chunks.push(chunk);
    }
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
    } catch {
      throw new SqsFault('InvalidParameterValue', 'The request body is not valid JSON.');
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new SqsFault('InvalidParameterValue', 'The request body must be a JSON object.');
    }
    return body as Json;
  }

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    active += 1;
    res.once('close', () => {
      active -= 1;
    });
    const target = String(req.headers['x-amz-target'] ?? '');
    const operation = target.startsWith('AmazonSQS.') ? target.slice(10) : '';
    operations.push(operation || '(none)');
    let status = 200;
    const headers: Record<string, string> = {
      'content-type': 'application/x-amz-json-1.0',
      'x-amzn-requestid': randomUUID(),
    };
    let reply: Json;
    try {
      const body = await readJson(req);
      if (req.method !== 'POST' || operation === '') {
        throw new SqsFault('InvalidAction', 'Expected POST / with X-Amz-Target: AmazonSQS.<Op>.');
      }
      if (requireSignature && !SIGV4.test(req.headers.authorization ?? '')) {
        throw new SqsFault('MissingAuthenticationToken', 'Missing Authentication Token');
      }
      reply = await handle(operation, body, res);
    } catch (err) {
      const fault = err instanceof SqsFault ? err : new SqsFault('InternalFailure', String(err));
      const internal = fault.type === 'InternalFailure';
      const [code, httpStatus] = SQS_FAULTS[fault.type] ?? [fault.type, internal ? 500 : 400];
      status = httpStatus;
      headers['x-amzn-query-error'] = `${code};${internal ? 'Receiver' : 'Sender'}`;
      reply = { __type: `com.amazonaws.sqs#${fault.type}`, message: fault.message };
    }
    if (res.destroyed) return;
    const payload = JSON.stringify(reply);
    res.writeHead(status, { ...headers, 'content-length': String(Buffer.byteLength(payload)) });
    res.end(payload);
  }

  const server = createServer((req, res) => void serve(req, res));
  endpoint = `http://127.0.0.1:${await listenOnLoopback(server)}`;
  for (const name of options.queues ?? []) createQueue(name, {});
  const credentials = { accessKeyId: 'AKIDTESTKITSQS', secretAccessKey: 'testkit-sqs-secret' };
  const clients = new Set<SQSClient>();
  let stopping: Promise<void> | undefined;

  const existing = (name: string): LocalQueue => {
    const queue = queues.get(name);
    if (!queue) throw new Error(`testkit SQS has no queue "${name}"; create it first`);
    return queue;
  };

  return {
    endpoint,
    region,
    credentials,
    client(overrides = {}) {
      const c = new SQSClient({ endpoint, region, credentials, ...overrides });
      clients.add(c);
      return c;
    },
    createQueue: (name, attributes = {}) => createQueue(name, attributes),
    queueUrl,
    queueArn,
    messages(name) {
      const now = Date.now();
      return existing(name).messages.map((m) => ({
        messageId: m.messageId,
        body: m.body,
        messageAttributes: structuredClone(m.attributes),
        receiveCount: m.receiveCount,
        inFlight: m.receiveCount > 0 && m.visibleAt > now,
        delayed: m.receiveCount === 0 && m.visibleAt > now,
        visibleAt: m.visibleAt,
        sentAt: m.sentAt,
      }));
    },
    enqueue(name, body, attributes) {
      return String(
        send(existing(name), { MessageBody: body, MessageAttributes: attributes }).MessageId,
      );
    },
    requestCount: (operation) =>
      operation === undefined
        ? operations.length
        : operations.filter((o) => o === operation).length,
    stop() {
      stopping ??= (async () => {
        stopped = true;
        wake();
        const closed = new Promise<void>((done) => server.close(() => done()));
        const deadline = Date.now() + 2000;
        while (active > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
        server.closeAllConnections();
        for (const c of clients) c.destroy();
        await closed;
      })();
      return stopping;
    },
  };
}
