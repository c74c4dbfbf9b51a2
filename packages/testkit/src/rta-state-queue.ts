/**
 * The current server generation's state queue: requests queue their batch and get 200, a
 * background worker applies the queued batches later in a configurable order, and a long queue
 * makes the server answer "State queue is flooded" (docs/teleopti-rta.md#server-generations).
 * Internal to the testkit's RTA receiver.
 */

import type { RtaAgentBook } from './rta-agent-book.js';
import type { RtaWorkerOptions } from './rta-receiver-types.js';
import { floodFailure, type QueuedBatch } from './rta-wire.js';

/** The configuration the queue needs. */
export interface RtaStateQueueOptions {
  /** The worker's options. */
  worker: RtaWorkerOptions | undefined;
  /** Queued batches from which requests get the flood answer. */
  floodThreshold: number;
  /** How often the queue length is re-checked for the flood answer, in ms. */
  floodCheckIntervalMs: number;
  /** Configured source ids (states of another source are dropped by the worker). */
  sourceIds: readonly string[];
}

/** Current mode: the queue of accepted batches and the worker that applies them to the book. */
export class RtaStateQueue {
  readonly #book: RtaAgentBook;
  readonly #sourceIds: readonly string[];
  readonly #intervalMs: number;
  readonly #order: 'arrival' | 'reverse' | 'random';
  readonly #random: () => number;
  readonly #floodThreshold: number;
  readonly #floodCheckIntervalMs: number;
  readonly #queue: QueuedBatch[] = [];
  readonly #settledWaiters: (() => void)[] = [];
  #timer: NodeJS.Timeout | undefined;
  #paused = false;
  #stopped = false;
  #floodCheckedAt = Number.NEGATIVE_INFINITY;
  #floodedQueue = 0;

  constructor(book: RtaAgentBook, options: RtaStateQueueOptions) {
    this.#book = book;
    this.#sourceIds = options.sourceIds;
    this.#intervalMs = options.worker?.intervalMs ?? 0;
    this.#order = options.worker?.order ?? 'arrival';
    this.#random = options.worker?.random ?? Math.random;
    this.#floodThreshold = options.floodThreshold;
    this.#floodCheckIntervalMs = options.floodCheckIntervalMs;
  }

  /** Batches answered 200 and not applied yet. */
  get length(): number {
    return this.#queue.length;
  }

  /** Queues a batch (schedule the worker once the answer was written). */
  push(batch: QueuedBatch): void {
    this.#queue.push(batch);
  }

  /** Throws the flood answer when the queue length, re-checked every interval, is too long. */
  checkFlood(): void {
    const now = Date.now();
    if (now - this.#floodCheckedAt >= this.#floodCheckIntervalMs) {
      this.#floodCheckedAt = now;
      this.#floodedQueue = this.#queue.length;
    }
    if (this.#floodedQueue >= this.#floodThreshold) throw floodFailure(this.#floodedQueue);
  }

  /** Runs the worker now (interval 0) or after the interval, unless paused, stopped or idle. */
  schedule(): void {
    if (this.#paused || this.#stopped || this.#queue.length === 0) return;
    if (this.#intervalMs === 0) {
      this.#run();
      return;
    }
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#run();
    }, this.#intervalMs);
  }

  /** Stops the worker until `resume()`. */
  pause(): void {
    this.#paused = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Restarts the worker. */
  resume(): void {
    this.#paused = false;
    this.schedule();
  }

  /** Resolves when no batch is queued; rejects after `timeoutMs`. */
  async settled(timeoutMs: number): Promise<void> {
    if (this.#queue.length === 0) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        const at = this.#settledWaiters.indexOf(done);
        if (at >= 0) this.#settledWaiters.splice(at, 1);
        reject(
          new Error(
            `RTA receiver: ${this.#queue.length} batch(es) still queued after ${timeoutMs} ms${this.#paused ? ' (the worker is paused)' : ''}`,
          ),
        );
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.#settledWaiters.push(done);
    });
  }

  /** Forgets the queued batches and the last flood check. */
  clear(): void {
    this.#queue.length = 0;
    this.#notifySettled();
    this.#floodCheckedAt = Number.NEGATIVE_INFINITY;
    this.#floodedQueue = 0;
  }

  /** Applies what is queued and never runs the worker again. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#run();
  }

  #run(): void {
    const taken = this.#queue.splice(0);
    if (this.#order === 'reverse') taken.reverse();
    else if (this.#order === 'random') {
      for (let i = taken.length - 1; i > 0; i--) {
        const j = Math.floor(this.#random() * (i + 1));
        [taken[i], taken[j]] = [taken[j] as QueuedBatch, taken[i] as QueuedBatch];
      }
    }
    for (const batch of taken) this.#book.work(batch, this.#sourceIds);
    this.#notifySettled();
  }

  #notifySettled(): void {
    if (this.#queue.length > 0) return;
    for (const done of this.#settledWaiters.splice(0)) done();
  }
}
