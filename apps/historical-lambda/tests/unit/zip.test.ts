import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { unzipSync } from 'fflate';
import { buildBundle } from '../support/runtime.js';

// Building the bundle and starting the peers takes a while on a loaded machine.
jest.setTimeout(240_000);

describe('npm run build', () => {
  it('produces the same zip, byte for byte, when built twice', async () => {
    const a = await mkdtemp(join(tmpdir(), 'hl-zip-a-'));
    const b = await mkdtemp(join(tmpdir(), 'hl-zip-b-'));
    try {
      const first = await buildBundle(a);
      const second = await buildBundle(b);
      expect(second.sha256).toBe(first.sha256);
      expect(
        readFileSync(join(a, 'historical-lambda.zip')).equals(
          readFileSync(join(b, 'historical-lambda.zip')),
        ),
      ).toBe(true);
      const entries = unzipSync(readFileSync(first.zip));
      expect(Object.keys(entries)).toEqual(['index.mjs']);
      const code = Buffer.from(entries['index.mjs'] as Uint8Array).toString('utf8');
      expect(code).toContain('handler');
      // ssh2's native add-ons are not in the bundle.
      expect(code).not.toContain('.node"');
      expect(first.zipBytes).toBeLessThan(3 * 1024 * 1024);
    } finally {
      await rm(a, { recursive: true, force: true });
      await rm(b, { recursive: true, force: true });
    }
  });
});
