/**
 * Wire helpers of the Kinesis fault proxy (kinesis-faults.ts): reading request bodies, JSON and
 * AWS-style error answers, passing the target's answer through, StreamARN parsing.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';

/** Content type of the Kinesis JSON protocol. */
export const JSON_TYPE = 'application/x-amz-json-1.1';
/** Account id quoted in the error messages. */
export const ACCOUNT = '000000000000';

/** The stream and shard a shard iterator was issued for. */
export interface IteratorInfo {
  readonly streamName: string;
  readonly shardId: string;
}

/** A parsed JSON object body. */
export type JsonObject = Record<string, unknown>;

/** Whether `value` is a plain JSON object. */
export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Key of a shard in the retention trim table. */
export function trimKey(info: IteratorInfo): string {
  return `${info.streamName}/${info.shardId}`;
}

/** The stream name a Kinesis stream ARN carries, `undefined` when it is not one. */
export function streamNameFromArn(arn: string): string | undefined {
  const match = /^arn:aws[a-z-]*:kinesis:[a-z0-9-]+:\d{12}:stream\/([a-zA-Z0-9_.-]+)$/.exec(arn);
  return match?.[1];
}

/** Reads a whole request or response body. */
export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Answers `status` with a Kinesis JSON body and a fresh request id. */
export function sendJson(res: ServerResponse, status: number, body: JsonObject): void {
  const payload = Buffer.from(JSON.stringify(body), 'utf8');
  res.writeHead(status, {
    'content-type': JSON_TYPE,
    'content-length': payload.length,
    'x-amzn-requestid': randomUUID(),
  });
  res.end(payload);
}

/** Answers with the target's status and headers and `body` (which may have been rewritten). */
export function passThrough(
  res: ServerResponse,
  upstream: { status: number; headers: IncomingHttpHeaders },
  body: Buffer,
): void {
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(upstream.headers)) {
    if (v === undefined || k === 'content-length' || k === 'connection') continue;
    if (k === 'transfer-encoding') continue;
    headers[k] = v;
  }
  headers['content-length'] = String(body.length);
  res.writeHead(upstream.status, headers);
  res.end(body);
}

/** Answers an AWS JSON error (`__type`, `message`). */
export function sendError(
  res: ServerResponse,
  status: number,
  type: string,
  message: string,
): void {
  sendJson(res, status, { __type: type, message });
}
