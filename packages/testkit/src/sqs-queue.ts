// The queue model behind the testkit's SQS endpoint (sqs.ts): validation as SQS does it, message
// visibility, receipt handles, MD5 digests. Internal; only `sqsAttributesMd5` is public.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { SqsMessageAttribute } from './sqs.js';

export type Json = Record<string, unknown>;

export interface Msg {
  messageId: string;
  body: string;
  attributes: Record<string, SqsMessageAttribute>;
  sentAt: number;
  firstReceivedAt?: number;
  receiveCount: number;
  visibleAt: number;
  receiptHandle?: string;
}

/** An SQS error: `type` is the `__type` shape name (or an unmodelled query error code). */
export class SqsFault extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

/** `__type` → [awsQueryError code for `x-amzn-query-error`, HTTP status], from the SDK model. */
export const SQS_FAULTS: Readonly<Record<string, [string, number]>> = {
  QueueDoesNotExist: ['AWS.SimpleQueueService.NonExistentQueue', 400],
  QueueNameExists: ['QueueAlreadyExists', 400],
  ReceiptHandleIsInvalid: ['ReceiptHandleIsInvalid', 404],
  MessageNotInflight: ['AWS.SimpleQueueService.MessageNotInflight', 400],
  EmptyBatchRequest: ['AWS.SimpleQueueService.EmptyBatchRequest', 400],
  TooManyEntriesInBatchRequest: ['AWS.SimpleQueueService.TooManyEntriesInBatchRequest', 400],
  BatchEntryIdsNotDistinct: ['AWS.SimpleQueueService.BatchEntryIdsNotDistinct', 400],
  InvalidBatchEntryId: ['AWS.SimpleQueueService.InvalidBatchEntryId', 400],
  UnsupportedOperation: ['AWS.SimpleQueueService.UnsupportedOperation', 400],
};

/** Settable numeric queue attributes with their [min, max]. */
const RANGES: Readonly<Record<string, [number, number]>> = {
  VisibilityTimeout: [0, 43_200],
  DelaySeconds: [0, 900],
  ReceiveMessageWaitTimeSeconds: [0, 20],
  MessageRetentionPeriod: [60, 1_209_600],
  MaximumMessageSize: [1024, 1_048_576],
};
const DEFAULTS: Readonly<Record<string, string>> = {
  VisibilityTimeout: '30',
  DelaySeconds: '0',
  ReceiveMessageWaitTimeSeconds: '0',
  MessageRetentionPeriod: '345600',
  MaximumMessageSize: '1048576',
};
const SYSTEM = [
  'SenderId',
  'SentTimestamp',
  'ApproximateReceiveCount',
  'ApproximateFirstReceiveTimestamp',
];
const VALID_BODY = /^[\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]+$/u;
const ENTRY_ID = /^[\w-]{1,80}$/;

const md5 = (data: Buffer | string): string => createHash('md5').update(data).digest('hex');

/**
 * Computes `MD5OfMessageAttributes` as SQS does: attributes sorted by name, each encoded as
 * length-prefixed (4-byte big-endian) name, data type, a transport byte (1 string, 2 binary) and
 * length-prefixed value. Returns `undefined` for no attributes.
 *
 * @example
 * sqsAttributesMd5({ timestamp: { DataType: 'Number', StringValue: '1493147359900' } });
 * // '235c5c510d26fb653d073faed50ae77c'
 */
export function sqsAttributesMd5(
  attributes: Record<string, SqsMessageAttribute>,
): string | undefined {
  const names = Object.keys(attributes).sort();
  if (names.length === 0) return undefined;
  const field = (bytes: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    return [length, bytes];
  };
  const parts = names.flatMap((name) => {
    const a = attributes[name] as SqsMessageAttribute;
    const binary = a.DataType.startsWith('Binary');
    const value = binary
      ? Buffer.from(a.BinaryValue ?? '', 'base64')
      : Buffer.from(a.StringValue ?? '');
    const transport = Buffer.from([binary ? 2 : 1]);
    return [
      ...field(Buffer.from(name)),
      ...field(Buffer.from(a.DataType)),
      transport,
      ...field(value),
    ];
  });
  return md5(Buffer.concat(parts));
}

/** An integer request field within [min, max], or `fallback` when absent. */
export function int(body: Json, name: string, min: number, max: number, fallback?: number): number {
  const v = body[name] ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new SqsFault(
      'InvalidParameterValue',
      `${name} must be an integer from ${min} to ${max}.`,
    );
  }
  return v;
}

/** A required, non-empty string request field. */
export function str(body: Json, name: string): string {
  const v = body[name];
  if (typeof v !== 'string' || v === '') {
    throw new SqsFault('MissingParameter', `The request must contain the parameter ${name}.`);
  }
  return v;
}

/** The `Entries` of a batch request, checked as SQS checks them. */
export function batchEntries(body: Json): Json[] {
  const v = body.Entries;
  if (!Array.isArray(v) || v.length === 0) {
    throw new SqsFault('EmptyBatchRequest', 'There should be at least one entry in the request.');
  }
  if (v.length > 10) {
    throw new SqsFault(
      'TooManyEntriesInBatchRequest',
      `At most 10 entries per request, got ${v.length}.`,
    );
  }
  const ids = v.map((e: Json) => e?.Id);
  if (ids.some((id) => typeof id !== 'string' || !ENTRY_ID.test(id))) {
    throw new SqsFault('InvalidBatchEntryId', 'Batch entry ids are 1-80 letters, digits, - or _.');
  }
  if (new Set(ids).size !== ids.length) {
    throw new SqsFault('BatchEntryIdsNotDistinct', 'Two or more batch entries have the same Id.');
  }
  return v as Json[];
}

function messageAttributes(raw: unknown): Record<string, SqsMessageAttribute> {
  const entries = Object.entries((raw ?? {}) as Record<string, Json>);
  if (entries.length > 10) {
    throw new SqsFault('InvalidParameterValue', 'A message can have at most 10 attributes.');
  }
  const out: Record<string, SqsMessageAttribute> = {};
  for (const [name, a] of entries) {
    const type = typeof a?.DataType === 'string' ? a.DataType : '';
    const binary = /^Binary(\..+)?$/.test(type);
    const value = binary ? a.BinaryValue : a.StringValue;
    if (!/^(String|Number|Binary)(\..+)?$/.test(type) || typeof value !== 'string' || !value) {
      const field = binary ? 'BinaryValue' : 'StringValue';
      throw new SqsFault(
        'InvalidParameterValue',
        `Message attribute "${name}" needs DataType String, Number or Binary and a ${field}.`,
      );
    }
    out[name] = binary
      ? { DataType: type, BinaryValue: value }
      : { DataType: type, StringValue: value };
  }
  return out;
}

/** Checks settable queue attributes (the numeric ones, RedrivePolicy, Policy). */
export function queueAttributes(raw: unknown): Record<string, string> {
  const attributes = (raw ?? {}) as Record<string, unknown>;
  for (const [name, value] of Object.entries(attributes)) {
    const range = RANGES[name];
    if (typeof value !== 'string' || (!range && name !== 'RedrivePolicy' && name !== 'Policy')) {
      throw new SqsFault('InvalidAttributeName', `Unknown or unsupported queue attribute ${name}.`);
    }
    const n = Number(value);
    if (range && !(Number.isInteger(n) && n >= range[0] && n <= range[1])) {
      throw new SqsFault('InvalidAttributeValue', `${name} must be ${range[0]} to ${range[1]}.`);
    }
    if (name === 'RedrivePolicy' && !redrivePolicy(value)) {
      throw new SqsFault(
        'InvalidAttributeValue',
        'RedrivePolicy must be JSON with deadLetterTargetArn and maxReceiveCount (1-1000).',
      );
    }
  }
  return attributes as Record<string, string>;
}

function redrivePolicy(text: string | undefined) {
  if (text === undefined) return undefined;
  try {
    const p = JSON.parse(text) as Json;
    const max = Number(p.maxReceiveCount);
    if (typeof p.deadLetterTargetArn !== 'string' || !Number.isInteger(max)) return undefined;
    return max >= 1 && max <= 1000 ? { arn: p.deadLetterTargetArn, max } : undefined;
  } catch {
    return undefined;
  }
}

/** One standard queue. Messages are kept in send order; "visible" means `visibleAt <= now`. */
export class LocalQueue {
  readonly created = Date.now();
  modified = this.created;
  readonly attributes: Record<string, string>;
  readonly messages: Msg[] = [];

  constructor(
    readonly name: string,
    attributes: Record<string, string>,
  ) {
    this.attributes = { ...DEFAULTS, ...attributes };
  }

  /** Whether CreateQueue with these attributes may return this existing queue. */
  matches(attributes: Record<string, string>): boolean {
    return Object.entries({ ...DEFAULTS, ...attributes }).every(
      ([k, v]) => this.attributes[k] === v,
    );
  }

  num(name: string): number {
    return Number(this.attributes[name]);
  }

  /** The dead-letter queue ARN and max receive count, if a RedrivePolicy is set. */
  get redrive(): { arn: string; max: number } | undefined {
    return redrivePolicy(this.attributes.RedrivePolicy);
  }

  /** SendMessage (or one batch entry): validates and appends; returns the SendMessage result. */
  send(entry: Json): Json {
    const body = str(entry, 'MessageBody');
    if (!VALID_BODY.test(body)) {
      throw new SqsFault('InvalidMessageContents', 'The message body has characters SQS rejects.');
    }
    const attributes = messageAttributes(entry.MessageAttributes);
    const delay = int(entry, 'DelaySeconds', 0, 900, this.num('DelaySeconds'));
    const size = Object.entries(attributes).reduce(
      (n, [k, a]) => n + Buffer.byteLength(k + a.DataType + (a.StringValue ?? a.BinaryValue)),
      Buffer.byteLength(body),
    );
    if (size > this.num('MaximumMessageSize')) {
      throw new SqsFault(
        'InvalidParameterValue',
        `The message is ${size} bytes; the queue's MaximumMessageSize is ${this.num('MaximumMessageSize')}.`,
      );
    }
    const now = Date.now();
    const msg: Msg = {
      messageId: randomUUID(),
      body,
      attributes,
      sentAt: now,
      receiveCount: 0,
      visibleAt: now + delay * 1000,
    };
    this.messages.push(msg);
    const attributesMd5 = sqsAttributesMd5(attributes);
    return {
      MessageId: msg.messageId,
      MD5OfMessageBody: md5(body),
      ...(attributesMd5 ? { MD5OfMessageAttributes: attributesMd5 } : {}),
    };
  }

  /**
   * Receives up to `max` visible messages, each with a new receipt handle and hidden for
   * `visibility` seconds. Messages already received `redrive.max` times go to `deadLetter`.
   */
  take(max: number, visibility: number, deadLetter?: LocalQueue): Msg[] {
    const now = Date.now();
    const limit = this.redrive?.max ?? Number.POSITIVE_INFINITY;
    const taken: Msg[] = [];
    for (const msg of [...this.messages]) {
      if (taken.length >= max) break;
      if (msg.visibleAt > now) continue;
      if (deadLetter && msg.receiveCount >= limit) {
        this.messages.splice(this.messages.indexOf(msg), 1);
        deadLetter.messages.push({ ...msg, visibleAt: now });
        continue;
      }
      msg.receiveCount += 1;
      msg.firstReceivedAt ??= now;
      msg.visibleAt = now + visibility * 1000;
      msg.receiptHandle = randomBytes(32).toString('base64url');
      taken.push(msg);
    }
    return taken;
  }

  /** Earliest future `visibleAt`, or Infinity: when a long poll should look again. */
  nextVisibleAt(now: number): number {
    return Math.min(...this.messages.map((m) => m.visibleAt).filter((t) => t > now));
  }

  /** DeleteMessage: only the latest receipt handle deletes; a stale one succeeds silently (as SQS). */
  remove(msg: Msg, handle: unknown): void {
    const at = this.messages.indexOf(msg);
    if (msg.receiptHandle === handle && at >= 0) this.messages.splice(at, 1);
  }

  /** ChangeMessageVisibility; the message must be in flight and `handle` its latest. */
  changeVisibility(msg: Msg, handle: unknown, seconds: number): void {
    const now = Date.now();
    if (msg.receiptHandle !== handle || msg.visibleAt <= now || !this.messages.includes(msg)) {
      throw new SqsFault(
        'MessageNotInflight',
        'The message is not in flight (or the handle is stale).',
      );
    }
    msg.visibleAt = now + seconds * 1000;
  }

  /** GetQueueAttributes for the requested names (`All` for all). */
  describe(names: unknown, arn: string): Record<string, string> {
    const now = Date.now();
    const count = (pred: (m: Msg) => boolean) => String(this.messages.filter(pred).length);
    const all: Record<string, string> = {
      ...this.attributes,
      QueueArn: arn,
      CreatedTimestamp: String(Math.floor(this.created / 1000)),
      LastModifiedTimestamp: String(Math.floor(this.modified / 1000)),
      ApproximateNumberOfMessages: count((m) => m.visibleAt <= now),
      ApproximateNumberOfMessagesNotVisible: count((m) => m.visibleAt > now && m.receiveCount > 0),
      ApproximateNumberOfMessagesDelayed: count((m) => m.visibleAt > now && m.receiveCount === 0),
    };
    const wanted = Array.isArray(names) ? (names as unknown[]) : [];
    return Object.fromEntries(
      Object.entries(all).filter(([k]) => wanted.includes('All') || wanted.includes(k)),
    );
  }
}

/** One message as ReceiveMessage returns it, with the system and user attributes asked for. */
export function renderMessage(msg: Msg, request: Json): Json {
  const asked = [request.AttributeNames, request.MessageSystemAttributeNames].flatMap((v) =>
    Array.isArray(v) ? (v as unknown[]) : [],
  );
  const system: Record<string, string> = {
    SenderId: 'AIDATESTKITSQS',
    SentTimestamp: String(msg.sentAt),
    ApproximateReceiveCount: String(msg.receiveCount),
    ApproximateFirstReceiveTimestamp: String(msg.firstReceivedAt ?? msg.sentAt),
  };
  const Attributes = Object.fromEntries(
    SYSTEM.filter((n) => asked.includes('All') || asked.includes(n)).map((n) => [n, system[n]]),
  );
  const filters = Array.isArray(request.MessageAttributeNames)
    ? (request.MessageAttributeNames as unknown[]).filter((f) => typeof f === 'string')
    : [];
  const wanted = (name: string) =>
    filters.some(
      (f) =>
        f === 'All' ||
        f === '.*' ||
        f === name ||
        (f.endsWith('.*') && name.startsWith(f.slice(0, -1))),
    );
  const picked = Object.fromEntries(
    Object.entries(msg.attributes).filter(([name]) => wanted(name)),
  );
  const attributesMd5 = sqsAttributesMd5(picked);
  return {
    MessageId: msg.messageId,
    ReceiptHandle: msg.receiptHandle,
    MD5OfBody: md5(msg.body),
    Body: msg.body,
    ...(Object.keys(Attributes).length > 0 ? { Attributes } : {}),
    ...(attributesMd5 ? { MessageAttributes: picked, MD5OfMessageAttributes: attributesMd5 } : {}),
  };
}
