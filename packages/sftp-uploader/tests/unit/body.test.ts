import { Readable } from 'node:stream';
import fc from 'fast-check';
import { type ChunkSource, chunkSource } from '../../src/body.js';

async function drain(source: ChunkSource): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (let chunk = await source.next(); chunk !== null; chunk = await source.next())
    out.push(chunk);
  return out;
}

describe('chunkSource', () => {
  it('encodes text as UTF-8 and can rewind a buffered body', async () => {
    const source = chunkSource('Kö ☕ 🍲', 4);
    const first = Buffer.concat(await drain(source));
    expect(first.equals(Buffer.from('Kö ☕ 🍲', 'utf8'))).toBe(true);
    expect(source.replayable).toBe(true);
    source.rewind();
    expect(Buffer.concat(await drain(source)).equals(first)).toBe(true);
  });

  it('re-chunks any stream into chunks of at most chunkSize, preserving every byte', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ minLength: 0, maxLength: 300 }), { maxLength: 30 }),
        fc.integer({ min: 1, max: 200 }),
        async (parts, chunkSize) => {
          const source = chunkSource(Readable.from(parts.map((p) => Buffer.from(p))), chunkSize);
          const chunks = await drain(source);
          const expected = Buffer.concat(parts.map((p) => Buffer.from(p)));
          expect(Buffer.concat(chunks).equals(expected)).toBe(true);
          for (const c of chunks) {
            expect(c.length).toBeGreaterThan(0);
            expect(c.length).toBeLessThanOrEqual(chunkSize);
          }
          // Only the last chunk may be short.
          for (const c of chunks.slice(0, -1)) expect(c.length).toBe(chunkSize);
          expect(source.replayable).toBe(false);
        },
      ),
    );
  });

  it('accepts string chunks from an async iterable', async () => {
    async function* gen() {
      yield 'å';
      yield Buffer.from('b');
      yield new Uint8Array([0x63]);
    }
    expect(Buffer.concat(await drain(chunkSource(gen(), 1024))).toString('utf8')).toBe('åbc');
  });
});
