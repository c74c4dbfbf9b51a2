import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type ByteSource,
  type FirehoseItem,
  type ReadFirehoseOptions,
  readFirehoseBatches,
  readFirehoseRecords,
} from '@connect-wfm/ctr-csv-mapper';

const here = dirname(fileURLToPath(import.meta.url));

/** The repository root (the checkout that holds packages/). */
export const REPO_ROOT = join(here, '..', '..', '..', '..');

/** The reference sample (synthetic, the project's reference sample): three CTRs, no delimiter. */
export function sampleBytes(): Buffer {
  return readFileSync(join(here, '..', 'fixtures', 'ctr-sample.firehose'));
}

/** Splits a buffer into chunks of `size` bytes (the last may be shorter). */
export function chunked(buf: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) out.push(buf.subarray(i, i + size));
  return out;
}

/** Splits a buffer at the given cut points. */
export function cutAt(buf: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.filter((c) => c > 0 && c < buf.length))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(buf.subarray(prev, p));
    prev = p;
  }
  out.push(buf.subarray(prev));
  return out;
}

/** Reads every item of a source into an array. */
export async function readAll(
  source: ByteSource,
  options: ReadFirehoseOptions = {},
): Promise<FirehoseItem[]> {
  const items: FirehoseItem[] = [];
  for await (const item of readFirehoseRecords(source, options)) items.push(item);
  return items;
}

/** A minimal valid CTR. */
export function ctr(id: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { ContactId: id, Channel: 'VOICE', ...extra };
}

/** Collects a Readable of Buffers into one Buffer. */
export async function collectBytes(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

/**
 * A source of `count` one-record chunks that records how many it handed out and whether it was
 * closed (its `finally` ran), for tests of early stops.
 */
export function trackedSource(count: number): {
  source: AsyncGenerator<Buffer>;
  state: { pulled: number; closed: boolean };
} {
  const state = { pulled: 0, closed: false };
  async function* source(): AsyncGenerator<Buffer> {
    try {
      for (let i = 0; i < count; i++) {
        state.pulled++;
        yield Buffer.from(JSON.stringify(ctr(`c${i}`)));
      }
    } finally {
      state.closed = true;
    }
  }
  return { source: source(), state };
}

/** A source that yields `chunks` and then fails with `message`. */
export async function* failingAfter(chunks: Buffer[], message: string): AsyncGenerator<Buffer> {
  for (const chunk of chunks) yield chunk;
  throw new Error(message);
}

/**
 * Reads `source` with readFirehoseBatches until it ends or throws: the ContactIds of the records
 * delivered, and the error (undefined when it ended).
 */
export async function readUntilError(
  source: AsyncIterable<Buffer>,
  options: ReadFirehoseOptions = {},
): Promise<{ ids: string[]; error: unknown }> {
  const ids: string[] = [];
  try {
    for await (const batch of readFirehoseBatches(source, options)) {
      for (const i of batch) if (i.kind === 'record') ids.push(i.record.ContactId);
    }
  } catch (error) {
    return { ids, error };
  }
  return { ids, error: undefined };
}
