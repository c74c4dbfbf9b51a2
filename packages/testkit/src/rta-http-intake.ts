/**
 * The transport side of the testkit's RTA receiver: reading request bodies (413 above the limit,
 * 405/415/500 for what is not a JSON POST), the answer delay, holding requests for `stall()`, and
 * refusing or accepting connections on the same port. Internal to the receiver.
 */

import type { EventEmitter } from 'node:events';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { RtaReceiverEvents, RtaRequestRecord } from './rta-receiver-types.js';
import { HttpFailure, isRecord, parseBody, writeAnswer } from './rta-wire.js';

/** Handles a request whose body was read and parsed. */
export type RtaRequestHandler = (
  res: ServerResponse,
  path: string,
  body: unknown,
  record: RtaRequestRecord,
) => void;

/** The configuration the intake needs. */
export interface RtaHttpIntakeOptions {
  /** Largest request body accepted. */
  maxBodyBytes: number;
  /** Initial answer delay, in ms. */
  answerDelayMs: number;
}

interface HeldRequest {
  res: ServerResponse;
  path: string;
  body: unknown;
  record: RtaRequestRecord;
}

/** Reads requests off the server and passes them on; owns the transport-level fault switches. */
export class RtaHttpIntake {
  readonly #server: Server;
  readonly #port: number;
  readonly #events: EventEmitter<RtaReceiverEvents>;
  readonly #requests: RtaRequestRecord[];
  readonly #handle: RtaRequestHandler;
  readonly #maxBodyBytes: number;
  readonly #held: HeldRequest[] = [];
  #answerDelayMs: number;
  #stallRemaining = 0;
  #listening = true;
  #stopped = false;

  /**
   * Listens for the server's requests: records each in `requests`, emits `request` on `events`
   * for answers written here and for dropped requests, and passes the rest to `handle`.
   */
  constructor(
    server: Server,
    port: number,
    events: EventEmitter<RtaReceiverEvents>,
    requests: RtaRequestRecord[],
    handle: RtaRequestHandler,
    options: RtaHttpIntakeOptions,
  ) {
    this.#server = server;
    this.#port = port;
    this.#events = events;
    this.#requests = requests;
    this.#handle = handle;
    this.#maxBodyBytes = options.maxBodyBytes;
    this.#answerDelayMs = options.answerDelayMs;
    server.on('request', (req, res) => {
      this.#onRequest(req, res);
    });
  }

  /** Writes the answer (200 when `err` is undefined) and emits `request`. */
  answer(res: ServerResponse, record: RtaRequestRecord, err: unknown): void {
    writeAnswer(res, record, err);
    this.#events.emit('request', record);
  }

  /** Waits `ms` after reading each request before handling it (0 stops). */
  setAnswerDelay(ms: number): void {
    this.#answerDelayMs = Math.max(0, ms);
  }

  /** Holds the next `n` requests (`true`: all, `false`/0: none and release the held ones). */
  stall(n: number | boolean): void {
    this.#stallRemaining = n === true ? Number.POSITIVE_INFINITY : n === false ? 0 : n;
    if (this.#stallRemaining === 0) this.#releaseHeld();
  }

  /** Held requests whose client is still connected. */
  get stalledCount(): number {
    return this.#held.length;
  }

  /** Stops listening and drops every connection and held request. */
  async refuseConnections(): Promise<void> {
    if (!this.#listening || this.#stopped) return;
    this.#listening = false;
    this.#dropHeld();
    await this.#closeServer();
  }

  /** Listens again on the same port. */
  async acceptConnections(): Promise<void> {
    if (this.#listening || this.#stopped) return;
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#port, '127.0.0.1', () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    this.#listening = true;
  }

  /** Stops for good: drops held requests and closes the server with every connection. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#stallRemaining = 0;
    this.#dropHeld();
    if (this.#listening) {
      this.#listening = false;
      await this.#closeServer();
    }
  }

  #dropHeld(): void {
    for (const held of this.#held.splice(0)) {
      held.record.status = 'dropped';
      held.res.destroy();
    }
  }

  async #closeServer(): Promise<void> {
    const closed = new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
    });
    this.#server.closeAllConnections();
    await closed;
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > this.#maxBodyBytes) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('error', () => {
      res.destroy();
    });
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      const record: RtaRequestRecord = {
        receivedAt: new Date(),
        method: req.method ?? 'GET',
        path,
        status: 0,
        stateCount: 0,
      };
      this.#requests.push(record);
      if (tooLarge) {
        this.answer(res, record, new HttpFailure(413, 'The request body is too large.'));
        return;
      }
      let body: unknown;
      try {
        body = parseBody(req, Buffer.concat(chunks, size));
        if (isRecord(body) && Array.isArray(body.States)) record.stateCount = body.States.length;
      } catch (err) {
        this.answer(res, record, err);
        return;
      }
      const go = () => {
        if (res.destroyed) {
          record.status = 'dropped';
          this.#events.emit('request', record);
          return;
        }
        if (this.#stallRemaining > 0) {
          this.#stallRemaining -= 1;
          record.status = 'stalled';
          const held: HeldRequest = { res, path, body, record };
          this.#held.push(held);
          res.once('close', () => {
            const at = this.#held.indexOf(held);
            if (at < 0) return;
            this.#held.splice(at, 1);
            record.status = 'dropped';
            this.#events.emit('request', record);
          });
          return;
        }
        this.#handle(res, path, body, record);
      };
      if (this.#answerDelayMs > 0) setTimeout(go, this.#answerDelayMs);
      else go();
    });
  }

  #releaseHeld(): void {
    for (const held of this.#held.splice(0)) {
      if (held.res.destroyed || held.res.socket === null || held.res.socket.destroyed) {
        held.record.status = 'dropped';
        this.#events.emit('request', held.record);
        continue;
      }
      this.#handle(held.res, held.path, held.body, held.record);
    }
  }
}
