import type { ChunkSource } from './body.js';
import { type Connection, OperationError } from './connection.js';

/** Progress of one file across attempts: what was read from the body and not yet acknowledged. */
export interface TransferState {
  /** Chunks read from the body whose write the server has not acknowledged, by offset. */
  readonly pending: Map<number, Buffer>;
  /** Bytes read from the body so far. */
  consumed: number;
  /** Whether the body is exhausted. */
  sourceDone: boolean;
}

/** A fresh {@link TransferState}. */
export function newTransferState(): TransferState {
  return { pending: new Map(), consumed: 0, sourceDone: false };
}

/** Offset below which every byte is known to be on the server. */
export function durableOffset(state: TransferState): number {
  let min = state.consumed;
  for (const offset of state.pending.keys()) if (offset < min) min = offset;
  return min;
}

/** Raised when reading the body fails (not a transfer fault). */
export class BodyReadError extends Error {
  override readonly name = 'BodyReadError';
  constructor(readonly original: unknown) {
    super(original instanceof Error ? original.message : String(original));
  }
}

/**
 * Writes the body to an open handle with up to `concurrency` pipelined SFTP write requests.
 * Unacknowledged chunks stay in `state.pending` (first re-sent when resuming), so after a
 * connection loss the transfer can continue from the temporary file on a new connection.
 * Memory is bounded by `concurrency` chunks in flight; the body is read only when a slot is
 * free (backpressure). Settles only when no body read is in progress, so `state` is consistent.
 */
export function writeAll(
  conn: Connection,
  handle: Buffer,
  path: string,
  state: TransferState,
  source: ChunkSource,
  concurrency: number,
  timeoutMs: number,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const resend = [...state.pending.entries()].sort((a, b) => a[0] - b[0]);
    let inflight = 0;
    let reading = false;
    let again = false;
    let failure: unknown;
    let settled = false;
    /** When the server last acknowledged a write, or when a write became outstanding. */
    let lastProgress = Date.now();

    const settle = (err?: unknown) => {
      if (settled) return;
      settled = true;
      clearInterval(watchdog);
      if (err === undefined) resolve();
      else reject(err);
    };
    const fail = (err: unknown) => {
      if (failure === undefined) failure = err;
      if (!reading) settle(failure);
    };

    const watchdog = setInterval(
      () => {
        if (inflight > 0 && Date.now() - lastProgress > timeoutMs) {
          fail(
            new OperationError(
              'write',
              path,
              new Error(`no write acknowledged within ${timeoutMs} ms`),
              'timeout',
            ),
          );
          conn.destroy();
        }
      },
      Math.min(1000, Math.max(50, Math.floor(timeoutMs / 4))),
    );
    watchdog.unref();

    const send = (offset: number, chunk: Buffer) => {
      // The watchdog counts only while a write is outstanding: time spent waiting for a slow
      // body (nothing in flight) is not a stalled server.
      if (inflight === 0) lastProgress = Date.now();
      inflight++;
      conn.sftp.write(handle, chunk, 0, chunk.length, offset, (err) => {
        inflight--;
        lastProgress = Date.now();
        if (failure !== undefined) {
          if (!reading) settle(failure);
          return;
        }
        if (err) {
          const status = typeof (err as { code?: unknown }).code === 'number';
          fail(new OperationError('write', path, err, status ? 'status' : 'lost'));
          return;
        }
        state.pending.delete(offset);
        void pump();
      });
    };

    const pump = async (): Promise<void> => {
      if (reading) {
        again = true;
        return;
      }
      reading = true;
      try {
        do {
          again = false;
          while (failure === undefined && inflight < concurrency && resend.length > 0) {
            const [offset, chunk] = resend.shift() as [number, Buffer];
            send(offset, chunk);
          }
          while (failure === undefined && inflight < concurrency && !state.sourceDone) {
            if (conn.closed) {
              failure = new OperationError('write', path, new Error('connection closed'), 'lost');
              break;
            }
            let chunk: Buffer | null;
            try {
              chunk = await source.next();
            } catch (err) {
              failure ??= new BodyReadError(err);
              break;
            }
            if (chunk === null) {
              state.sourceDone = true;
              break;
            }
            const offset = state.consumed;
            state.consumed += chunk.length;
            state.pending.set(offset, chunk);
            // After a failure the chunk stays pending and is written on the next attempt.
            if (failure === undefined) send(offset, chunk);
          }
        } while (again && failure === undefined);
      } catch (err) {
        // ssh2 may throw synchronously on a channel that just closed.
        failure ??= new OperationError('write', path, err, 'lost');
      } finally {
        reading = false;
      }
      if (failure !== undefined) settle(failure);
      else if (state.sourceDone && inflight === 0 && resend.length === 0) settle();
    };

    void pump();
  });
}
