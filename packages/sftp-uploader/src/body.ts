/** Pulls a body as chunks of at most `chunkSize` bytes. */
export interface ChunkSource {
  /** The next chunk, or `null` at the end. */
  next(): Promise<Buffer | null>;
  /** Whether {@link ChunkSource.rewind} can start the body again from byte 0. */
  readonly replayable: boolean;
  /** Starts again from byte 0 (only when `replayable`). */
  rewind(): void;
  /** Stops reading (destroys a stream body). */
  cancel(): Promise<void>;
}

function toBuffer(chunk: Uint8Array | string): Buffer {
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  return Buffer.isBuffer(chunk)
    ? chunk
    : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

function bufferSource(bytes: Buffer, chunkSize: number): ChunkSource {
  let pos = 0;
  return {
    replayable: true,
    async next() {
      if (pos >= bytes.length) return null;
      const chunk = bytes.subarray(pos, Math.min(bytes.length, pos + chunkSize));
      pos += chunk.length;
      return chunk;
    },
    rewind() {
      pos = 0;
    },
    async cancel() {},
  };
}

function iterableSource(
  iterable: AsyncIterable<Uint8Array | string>,
  chunkSize: number,
): ChunkSource {
  const it = iterable[Symbol.asyncIterator]();
  let carry: Buffer | undefined;
  let done = false;
  return {
    replayable: false,
    async next() {
      const parts: Buffer[] = [];
      let size = 0;
      while (size < chunkSize) {
        if (carry === undefined || carry.length === 0) {
          if (done) break;
          const r = await it.next();
          if (r.done) {
            done = true;
            break;
          }
          carry = toBuffer(r.value);
          continue;
        }
        const take = Math.min(chunkSize - size, carry.length);
        parts.push(take === carry.length ? carry : carry.subarray(0, take));
        carry = take === carry.length ? undefined : carry.subarray(take);
        size += take;
      }
      if (size === 0) return null;
      return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, size);
    },
    rewind() {
      throw new Error('a stream body cannot be rewound');
    },
    async cancel() {
      done = true;
      // An iterator not yet started does not destroy its stream on return(): do it here.
      discardBody(iterable);
      await it.return?.();
    },
  };
}

interface StreamLike {
  on(event: 'error', listener: (err: unknown) => void): unknown;
  destroy(err?: Error): unknown;
  readonly destroyed?: boolean;
  readonly errored?: unknown;
}

function asStream(body: unknown): StreamLike | undefined {
  const b = body as Partial<StreamLike> | null;
  return typeof b === 'object' &&
    b !== null &&
    typeof b.on === 'function' &&
    typeof b.destroy === 'function'
    ? (b as StreamLike)
    : undefined;
}

const ignore = () => {};

/**
 * Makes sure a stream body waiting in the queue cannot crash the process: an `error` it emits
 * before its upload starts (a missing source file) is kept by the stream (`errored`) and
 * reported as that file's `BODY_FAILED` when its turn comes.
 */
export function guardBody(body: unknown): void {
  const stream = asStream(body);
  if (stream !== undefined) stream.on('error', ignore);
}

/** The error a stream body already failed with, before it was read. */
export function bodyFailure(body: unknown): unknown {
  const errored = asStream(body)?.errored;
  return errored === null ? undefined : errored;
}

/**
 * Releases a body that will not be uploaded (or no longer read): destroys a stream (closing
 * its file descriptor) or ends an async generator.
 */
export function discardBody(body: unknown): void {
  const stream = asStream(body);
  if (stream !== undefined) {
    guardBody(stream);
    if (stream.destroyed !== true) stream.destroy();
    return;
  }
  const gen = body as { return?: unknown; [Symbol.asyncIterator]?: unknown } | null;
  if (
    typeof gen === 'object' &&
    gen !== null &&
    typeof gen.return === 'function' &&
    typeof gen[Symbol.asyncIterator] === 'function'
  ) {
    // An async generator: return() runs its finally blocks (closing what it opened).
    Promise.resolve((gen.return as () => unknown).call(gen)).catch(ignore);
  }
}

/** Turns a body into a {@link ChunkSource}. Text is encoded as UTF-8. */
export function chunkSource(
  body: string | Uint8Array | AsyncIterable<Uint8Array | string>,
  chunkSize: number,
): ChunkSource {
  if (typeof body === 'string' || body instanceof Uint8Array) {
    return bufferSource(toBuffer(body), chunkSize);
  }
  return iterableSource(body, chunkSize);
}
