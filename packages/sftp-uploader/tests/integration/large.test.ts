import { createHash } from 'node:crypto';
import { createReadStream, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { type SshdServer, startSshd } from '@connect-wfm/testkit';
import { SftpUploader } from '../../src/index.js';
import { optionsFor } from './helpers.js';

const MiB = 1024 * 1024;
const TOTAL = 200 * MiB;

/** A 200 MB stream generated on the fly: a random 1 MiB block stamped with its index. */
function generated(hash: ReturnType<typeof createHash>): Readable {
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

  it('streams a 200 MB body with bounded memory and byte-exact content', async () => {
    const uploader = new SftpUploader(optionsFor(sshd));
    const sent = createHash('sha256');
    const baseline = process.memoryUsage();
    let peakRss = baseline.rss;
    let peakArrayBuffers = baseline.arrayBuffers;
    const sampler = setInterval(() => {
      const m = process.memoryUsage();
      peakRss = Math.max(peakRss, m.rss);
      peakArrayBuffers = Math.max(peakArrayBuffers, m.arrayBuffers);
    }, 10);
    try {
      const result = await uploader.put('big.bin', generated(sent));
      expect(result.bytes).toBe(TOTAL);
    } finally {
      clearInterval(sampler);
      await uploader.close();
    }
    const rssGrowthMb = (peakRss - baseline.rss) / MiB;
    const arrayBuffersGrowthMb = (peakArrayBuffers - baseline.arrayBuffers) / MiB;
    // A body held in memory would add 200 MB; streaming keeps a few MiB in flight.
    expect(rssGrowthMb).toBeLessThan(100);
    expect(arrayBuffersGrowthMb).toBeLessThan(100);
    const path = join(sshd.root, 'big.bin');
    expect(statSync(path).size).toBe(TOTAL);
    expect(await fileHash(path)).toBe(sent.digest('hex'));
    expect(readdirSync(sshd.root).filter((f) => f.endsWith('.part'))).toEqual([]);
  });
});
