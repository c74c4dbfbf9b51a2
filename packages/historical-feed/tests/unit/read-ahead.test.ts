import { setImmediate } from 'node:timers/promises';
import { readAhead } from '../../src/read-ahead.js';

/** A source of `count` chunks of `size` bytes that records how far it was read and whether it ended. */
function countingSource(count: number, size: number, failAt?: number) {
  const state = { pulled: 0, finished: false };
  async function* gen(): AsyncGenerator<Buffer> {
    try {
      for (let i = 0; i < count; i++) {
        if (i === failAt) throw new Error(`source failed at chunk ${i}`);
        state.pulled++;
        yield Buffer.alloc(size, i % 256);
      }
    } finally {
      state.finished = true;
    }
  }
  return { state, source: gen() };
}

async function settle(turns = 20): Promise<void> {
  for (let i = 0; i < turns; i++) await setImmediate();
}

describe('readAhead', () => {
  it('reads ahead before the first read, up to the limit, and passes every chunk on in order', async () => {
    const { state, source } = countingSource(100, 1000);
    const ahead = readAhead(source, 10_000);
    await settle();
    // Started without a read; stopped at the limit (the chunk that reached it included).
    expect(state.pulled).toBe(10);
    const seen: number[] = [];
    for await (const chunk of ahead) seen.push(chunk[0] ?? -1);
    expect(seen).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(state.finished).toBe(true);
  });

  it('throws the source error to the consumer, never an end', async () => {
    const { source } = countingSource(100, 10, 50);
    const seen: number[] = [];
    const err = await (async () => {
      for await (const chunk of readAhead(source, 64)) seen.push(chunk[0] ?? -1);
    })().catch((e: unknown) => e);
    expect((err as Error).message).toBe('source failed at chunk 50');
    expect(seen).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('ends the source when returned before its first read (a body the uploader discards)', async () => {
    const { state, source } = countingSource(100, 1000);
    const ahead = readAhead(source, 5000) as AsyncIterableIterator<Buffer>;
    await settle();
    expect(state.pulled).toBe(5);
    await ahead.return?.();
    await settle();
    expect(state.finished).toBe(true);
    expect(state.pulled).toBe(5);
    await expect(ahead.next()).resolves.toEqual({ done: true, value: undefined });
  });

  it('ends the source when the consumer leaves a for await loop early', async () => {
    const { state, source } = countingSource(100, 1000);
    for await (const chunk of readAhead(source, 3000)) if (chunk[0] === 2) break;
    await settle();
    expect(state.finished).toBe(true);
    expect(state.pulled).toBeLessThan(100);
  });

  it('returns the source itself when the limit is 0', () => {
    const { source } = countingSource(1, 1);
    expect(readAhead(source, 0)).toBe(source);
  });
});
