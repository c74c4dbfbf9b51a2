import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { KMSClient, type KMSClientConfig } from '@aws-sdk/client-kms';
import { listenOnLoopback } from './ports.js';

/** Options for {@link startKms}. */
export interface KmsPeerOptions {
  /**
   * Keys to create at start, one per alias (`'alias/ctr'` or just `'ctr'`). Each gets a fresh
   * random AES-256 master key.
   * @default []
   */
  keys?: readonly string[];
  /**
   * Region in key ARNs and client configuration.
   * @default 'us-east-1'
   */
  region?: string;
  /**
   * Reject requests without a SigV4 `Authorization` header (signatures are not verified).
   * @default true
   */
  requireSignature?: boolean;
}

/** A key held by the KMS peer. */
export interface KmsKeyInfo {
  /** The key id (a UUID). */
  keyId: string;
  /** `arn:aws:kms:<region>:000000000000:key/<keyId>`; KMS responses carry this as `KeyId`. */
  arn: string;
  /** `alias/<name>` when the key was created with an alias. */
  alias?: string;
}

/** One request the KMS peer answered, for assertions. */
export interface KmsRequestRecord {
  /** Operation name from `X-Amz-Target`, e.g. `'Decrypt'`. */
  operation: string;
  /** ARN of the key used, when the request resolved one. */
  keyArn?: string;
  /** The `__type` of the error returned, if the request failed. */
  error?: string;
}

/** A running local KMS endpoint, see {@link startKms}. */
export interface KmsPeer {
  /** `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  /** Region for clients and ARNs. */
  readonly region: string;
  /** Dummy credentials (any non-empty values work). */
  readonly credentials: { accessKeyId: string; secretAccessKey: string };
  /** Keys created from `options.keys`, in order. */
  readonly keys: readonly KmsKeyInfo[];
  /** Every request answered so far, oldest first (a live array). */
  readonly requests: readonly KmsRequestRecord[];
  /** A new `KMSClient` for this endpoint (`overrides` merged in); destroyed by `stop()`. */
  client(overrides?: Partial<KMSClientConfig>): KMSClient;
  /** Creates a symmetric key (optionally with an alias) without going through HTTP. */
  createKey(alias?: string): KmsKeyInfo;
  /** Number of requests answered, optionally only those of one operation. */
  requestCount(operation?: string): number;
  /** Destroys the clients, closes the server and drops open connections. Idempotent. */
  stop(): Promise<void>;
}

interface Key extends KmsKeyInfo {
  material: Buffer;
  enabled: boolean;
  description: string;
  created: number;
}

/** An AWS JSON error: HTTP status plus the `__type` the SDK maps to an exception class. */
class KmsFault extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

type Json = Record<string, unknown>;
const ACCOUNT = '000000000000';
const BLOB_VERSION = 1;
const MAX_BODY = 1024 * 1024;

function str(body: Json, field: string, required: true): string;
function str(body: Json, field: string, required?: false): string | undefined;
function str(body: Json, field: string, required = false): string | undefined {
  const v = body[field];
  if (v === undefined || v === null) {
    if (required) throw new KmsFault('ValidationException', `${field} is required`);
    return undefined;
  }
  if (typeof v !== 'string') throw new KmsFault('ValidationException', `${field} must be a string`);
  return v;
}

function blob(body: Json, field: string, min: number, max: number): Buffer {
  const text = str(body, field, true);
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length < min || bytes.length > max) {
    throw new KmsFault(
      'ValidationException',
      `${field} must be ${min} to ${max} bytes, got ${bytes.length}`,
    );
  }
  return bytes;
}

/** Canonical bytes of an encryption context: entries sorted by key, JSON-encoded. */
function contextBytes(body: Json): Buffer {
  const ctx = body.EncryptionContext ?? {};
  if (typeof ctx !== 'object' || ctx === null || Array.isArray(ctx)) {
    throw new KmsFault('ValidationException', 'EncryptionContext must be a map of strings');
  }
  const entries = Object.entries(ctx);
  if (entries.some(([, v]) => typeof v !== 'string')) {
    throw new KmsFault('ValidationException', 'EncryptionContext values must be strings');
  }
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Buffer.from(JSON.stringify(entries));
}

function checkAlgorithm(body: Json): void {
  const algorithm = str(body, 'EncryptionAlgorithm');
  if (algorithm !== undefined && algorithm !== 'SYMMETRIC_DEFAULT') {
    throw new KmsFault('InvalidKeyUsageException', `${algorithm} is not valid for a symmetric key`);
  }
}

/**
 * Starts a local AWS KMS endpoint on 127.0.0.1 (a free port) that speaks the KMS JSON 1.1 wire
 * protocol to `@aws-sdk/client-kms`: CreateKey, CreateAlias, DescribeKey, EnableKey, DisableKey,
 * Encrypt, Decrypt, GenerateDataKey and GenerateDataKeyWithoutPlaintext.
 *
 * Encryption is real: AES-256-GCM under a random per-key master key, the encryption context
 * authenticated as additional data. The ciphertext blob is `01 | len | keyId | iv(12) | tag(16) |
 * ciphertext`, so Decrypt finds the key itself, and a changed byte or context fails with
 * `InvalidCiphertextException`.
 *
 * @example
 * const kms = await startKms({ keys: ['alias/ctr'] });
 * const client = kms.client();
 * const { CiphertextBlob } = await client.send(
 *   new EncryptCommand({ KeyId: 'alias/ctr', Plaintext: Buffer.from('secret') }),
 * );
 * await kms.stop();
 */
export async function startKms(options: KmsPeerOptions = {}): Promise<KmsPeer> {
  const region = options.region ?? 'us-east-1';
  const requireSignature = options.requireSignature ?? true;
  const byId = new Map<string, Key>();
  const aliases = new Map<string, Key>();
  const requests: KmsRequestRecord[] = [];

  const aliasName = (alias: string): string =>
    alias.startsWith('alias/') ? alias : `alias/${alias}`;

  function addAlias(alias: string, key: Key): void {
    const name = aliasName(alias);
    if (!/^alias\/[a-zA-Z0-9/_-]{1,250}$/.test(name) || name.startsWith('alias/aws/')) {
      throw new KmsFault('InvalidAliasNameException', `invalid alias name "${name}"`);
    }
    if (aliases.has(name)) throw new KmsFault('AlreadyExistsException', `${name} already exists`);
    aliases.set(name, key);
  }

  function newKey(description = '', alias?: string): Key {
    const keyId = randomUUID();
    const key: Key = {
      keyId,
      arn: `arn:aws:kms:${region}:${ACCOUNT}:key/${keyId}`,
      material: randomBytes(32),
      enabled: true,
      description,
      created: Date.now(),
    };
    if (alias !== undefined) {
      addAlias(alias, key);
      key.alias = aliasName(alias);
    }
    byId.set(keyId, key);
    return key;
  }

  function resolve(keyRef: string): Key {
    const alias = /^arn:aws:kms:[^:]*:\d+:(alias\/.+)$/.exec(keyRef)?.[1];
    const keyArn = /^arn:aws:kms:[^:]*:\d+:key\/(.+)$/.exec(keyRef)?.[1];
    const key = keyRef.startsWith('alias/')
      ? aliases.get(keyRef)
      : alias !== undefined
        ? aliases.get(alias)
        : byId.get(keyArn ?? keyRef);
    if (!key) throw new KmsFault('NotFoundException', `Key '${keyRef}' does not exist`);
    return key;
  }

  function usable(keyRef: string, record: KmsRequestRecord): Key {
    const key = resolve(keyRef);
    record.keyArn = key.arn;
    if (!key.enabled) throw new KmsFault('DisabledException', `${key.arn} is disabled.`);
    return key;
  }

  function seal(key: Key, plaintext: Buffer, context: Buffer): Buffer {
    const id = Buffer.from(key.keyId, 'latin1');
    const header = Buffer.concat([Buffer.from([BLOB_VERSION, id.length]), id]);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key.material, iv);
    cipher.setAAD(Buffer.concat([header, context]));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([header, iv, cipher.getAuthTag(), ciphertext]);
  }

  function open(
    data: Buffer,
    context: Buffer,
    keyRef: string | undefined,
    record: KmsRequestRecord,
  ) {
    const invalid = () => new KmsFault('InvalidCiphertextException', 'The ciphertext is invalid.');
    const idLength = data[1] ?? 0;
    if (data[0] !== BLOB_VERSION || data.length < 2 + idLength + 28) throw invalid();
    const header = data.subarray(0, 2 + idLength);
    const key = byId.get(header.subarray(2).toString('latin1'));
    if (!key) throw invalid();
    if (keyRef !== undefined && resolve(keyRef) !== key) {
      throw new KmsFault(
        'IncorrectKeyException',
        `The ciphertext was not encrypted under ${keyRef}; omit KeyId or pass ${key.arn}.`,
      );
    }
    usable(key.keyId, record);
    const iv = data.subarray(header.length, header.length + 12);
    const tag = data.subarray(header.length + 12, header.length + 28);
    const decipher = createDecipheriv('aes-256-gcm', key.material, iv);
    decipher.setAAD(Buffer.concat([header, context]));
    decipher.setAuthTag(tag);
    try {
      const plaintext = Buffer.concat([
        decipher.update(data.subarray(header.length + 28)),
        decipher.final(),
      ]);
      return { key, plaintext };
    } catch {
      throw invalid();
    }
  }

  const metadata = (key: Key) => ({
    AWSAccountId: ACCOUNT,
    KeyId: key.keyId,
    Arn: key.arn,
    CreationDate: key.created / 1000,
    Enabled: key.enabled,
    Description: key.description,
    KeyUsage: 'ENCRYPT_DECRYPT',
    KeyState: key.enabled ? 'Enabled' : 'Disabled',
    Origin: 'AWS_KMS',
    KeyManager: 'CUSTOMER',
    KeySpec: 'SYMMETRIC_DEFAULT',
    CustomerMasterKeySpec: 'SYMMETRIC_DEFAULT',
    EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'],
    MultiRegion: false,
  });

  function dataKeyLength(body: Json): number {
    const spec = str(body, 'KeySpec');
    const bytes = body.NumberOfBytes;
    if ((spec === undefined) === (bytes === undefined)) {
      throw new KmsFault('ValidationException', 'Specify exactly one of KeySpec and NumberOfBytes');
    }
    if (spec !== undefined) {
      if (spec === 'AES_256') return 32;
      if (spec === 'AES_128') return 16;
      throw new KmsFault('ValidationException', `KeySpec must be AES_256 or AES_128, got ${spec}`);
    }
    if (typeof bytes !== 'number' || !Number.isInteger(bytes) || bytes < 1 || bytes > 1024) {
      throw new KmsFault('ValidationException', 'NumberOfBytes must be an integer from 1 to 1024');
    }
    return bytes;
  }

  function handle(operation: string, body: Json, record: KmsRequestRecord): Json {
    switch (operation) {
      case 'CreateKey': {
        const usage = str(body, 'KeyUsage') ?? 'ENCRYPT_DECRYPT';
        const spec =
          str(body, 'KeySpec') ?? str(body, 'CustomerMasterKeySpec') ?? 'SYMMETRIC_DEFAULT';
        if (usage !== 'ENCRYPT_DECRYPT' || spec !== 'SYMMETRIC_DEFAULT') {
          throw new KmsFault(
            'UnsupportedOperationException',
            'the testkit KMS only creates SYMMETRIC_DEFAULT ENCRYPT_DECRYPT keys',
          );
        }
        const key = newKey(str(body, 'Description') ?? '');
        record.keyArn = key.arn;
        return { KeyMetadata: metadata(key) };
      }
      case 'CreateAlias': {
        const key = resolve(str(body, 'TargetKeyId', true));
        record.keyArn = key.arn;
        addAlias(str(body, 'AliasName', true), key);
        key.alias ??= aliasName(str(body, 'AliasName', true));
        return {};
      }
      case 'DescribeKey': {
        const key = resolve(str(body, 'KeyId', true));
        record.keyArn = key.arn;
        return { KeyMetadata: metadata(key) };
      }
      case 'EnableKey':
      case 'DisableKey': {
        const key = resolve(str(body, 'KeyId', true));
        record.keyArn = key.arn;
        key.enabled = operation === 'EnableKey';
        return {};
      }
      case 'Encrypt': {
        checkAlgorithm(body);
        const key = usable(str(body, 'KeyId', true), record);
        const ciphertext = seal(key, blob(body, 'Plaintext', 1, 4096), contextBytes(body));
        const CiphertextBlob = ciphertext.toString('base64');
        return { CiphertextBlob, KeyId: key.arn, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
      }
      case 'Decrypt': {
        checkAlgorithm(body);
        const data = blob(body, 'CiphertextBlob', 1, 6144);
        const { key, plaintext } = open(data, contextBytes(body), str(body, 'KeyId'), record);
        const Plaintext = plaintext.toString('base64');
        return { KeyId: key.arn, Plaintext, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
      }
      case 'GenerateDataKey':
      case 'GenerateDataKeyWithoutPlaintext': {
        const key = usable(str(body, 'KeyId', true), record);
        const plaintext = randomBytes(dataKeyLength(body));
        const CiphertextBlob = seal(key, plaintext, contextBytes(body)).toString('base64');
        return operation === 'GenerateDataKey'
          ? { CiphertextBlob, Plaintext: plaintext.toString('base64'), KeyId: key.arn }
          : { CiphertextBlob, KeyId: key.arn };
      }
      default:
        throw new KmsFault('UnknownOperationException', `${operation} is not implemented`);
    }
  }

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = req.headers['x-amz-target'];
    const operation =
      typeof target === 'string' && target.startsWith('TrentService.') ? target.slice(13) : '';
    const record: KmsRequestRecord = { operation: operation || '(none)' };
    let status = 200;
    let reply: Json;
    try {
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of req as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > MAX_BODY) throw new KmsFault('ValidationException', 'request body too large');
        chunks.push(chunk);
      }
      if (req.method !== 'POST' || operation === '') {
        throw new KmsFault(
          'UnknownOperationException',
          'expected POST / with X-Amz-Target: TrentService.<Operation>',
        );
      }
      if (!String(req.headers['content-type']).startsWith('application/x-amz-json-1.1')) {
        throw new KmsFault(
          'SerializationException',
          'Content-Type must be application/x-amz-json-1.1',
        );
      }
      if (
        requireSignature &&
        !/^AWS4-HMAC-SHA256 Credential=\S+/.test(req.headers.authorization ?? '')
      ) {
        throw new KmsFault('MissingAuthenticationTokenException', 'Missing Authentication Token');
      }
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
      } catch {
        throw new KmsFault('SerializationException', 'request body is not valid JSON');
      }
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        throw new KmsFault('SerializationException', 'request body must be a JSON object');
      }
      reply = handle(operation, body as Json, record);
    } catch (err) {
      const fault =
        err instanceof KmsFault ? err : new KmsFault('KMSInternalException', String(err), 500);
      status = fault.status;
      record.error = fault.type;
      reply = { __type: fault.type, message: fault.message };
    }
    requests.push(record);
    const payload = JSON.stringify(reply);
    res.writeHead(status, {
      'content-type': 'application/x-amz-json-1.1',
      'content-length': Buffer.byteLength(payload),
      'x-amzn-requestid': randomUUID(),
    });
    res.end(payload);
  }

  const info = ({ keyId, arn, alias }: Key): KmsKeyInfo =>
    alias === undefined ? { keyId, arn } : { keyId, arn, alias };
  const keys = (options.keys ?? []).map((alias) => info(newKey('', alias)));
  const server = createServer((req, res) => void serve(req, res));
  const endpoint = `http://127.0.0.1:${await listenOnLoopback(server)}`;
  const credentials = { accessKeyId: 'AKIDTESTKITKMS', secretAccessKey: 'testkit-kms-secret' };
  const clients = new Set<KMSClient>();
  let stopping: Promise<void> | undefined;

  return {
    endpoint,
    region,
    credentials,
    keys,
    requests,
    client(overrides = {}) {
      const c = new KMSClient({ endpoint, region, credentials, ...overrides });
      clients.add(c);
      return c;
    },
    createKey: (alias) => info(newKey('', alias)),
    requestCount: (operation) =>
      operation === undefined
        ? requests.length
        : requests.filter((r) => r.operation === operation).length,
    stop() {
      stopping ??= new Promise<void>((done) => {
        for (const c of clients) c.destroy();
        server.close(() => done());
        server.closeAllConnections();
      });
      return stopping;
    },
  };
}
