import { createHash } from 'node:crypto';
import { createReadStream, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { type SshdServer, startSshd } from '@connect-wfm/testkit';
import { SftpUploader } from '../../src/index.js';
import { optionsFor, tempPathOf } from './helpers.js';

const MiB = 1024 * 1024;
const TOTAL = 200 * MiB;

/**
 * A 200 MB stream generated on the fly: a random 1 MiB block stamped with its index.
 * `produced.bytes` counts what the uploader has pulled from it so far.
 */
function generated(hash: ReturnType<typeof createHash>, produced: { bytes: number }): Readable {
  const base = Buffer.allocUnsafe(MiB);
  for (let i = 0; i < MiB; i += 4) base.writeUInt32LE((Math.random() * 2 ** 32) >>> 0, i);
  let index = 0;
  return new Readable({
    highWaterMark: MiB,
    read() {
      if (index * MiB >= TOTAL) {
        this.push(null);
        return;
      }
      const chunk = Buffer.from(base); // fresh memory each time, as a real source would
      chunk.writeUInt32BE(index, 0);
      index++;
      hash.update(chunk);
      produced.bytes += chunk.length;
      this.push(chunk);
    },
  });
}

async function fileHash(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * MiB })) {
    hash.update(chunk as Buffer);
  }
  return hash.digest('hex');
}

describe('SftpUploader with a large streamed body', () => {
  let sshd: SshdServer;

  beforeAll(async () => {
    sshd = await startSshd();
  });

  afterAll(async () => {
    await sshd?.stop();
  });

  it('streams a 200 MB body with bounded read-ahead and byte-exact content', async () => {
    const uploader = new SftpUploader(optionsFor(sshd));
    const sent = createHash('sha256');
    const produced = { bytes: 0 };
    // How far the body has been read ahead of what the server has written, sampled while the
    // upload runs. This is what streaming bounds, and unlike heap or RSS growth it does not
    // depend on when the garbage collector runs: a body held in memory would be read to the
    // end long before the server has half of it.
    let maxAheadBytes = 0;
    let samples = 0;
    const sampler = setInterval(() => {
      const partPath = tempPathOf(sshd.root, 'big.bin');
      if (partPath === undefined) return; // not created yet, or already renamed
      let written: number;
      try {
        written = statSync(partPath).size;
      } catch {
        return; // renamed meanwhile
      }
      samples++;
      maxAheadBytes = Math.max(maxAheadBytes, produced.bytes - written);
    }, 5);
    try {
      const result = await uploader.put('big.bin', generated(sent, produced));
      expect(result.bytes).toBe(TOTAL);
    } finally {
      clearInterval(sampler);
      await uploader.close();
    }
    expect(produced.bytes).toBe(TOTAL);
    expect(samples).toBeGreaterThan(10);
    // The window is concurrency (8) x chunkSize (255 KiB) ~ 2 MiB, plus the stream's own
    // 1 MiB buffer and the chunk being assembled; 16 MiB leaves room for timing.
    expect(maxAheadBytes / MiB).toBeLessThan(16);
    const path = join(sshd.root, 'big.bin');
    expect(statSync(path).size).toBe(TOTAL);
    expect(await fileHash(path)).toBe(sent.digest('hex'));
    expect(readdirSync(sshd.root).filter((f) => f.endsWith('.part'))).toEqual([]);
  });
});
