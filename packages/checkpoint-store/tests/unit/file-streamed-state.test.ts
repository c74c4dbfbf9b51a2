import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileCheckpointStore, InvalidArgumentError } from '@connect-wfm/checkpoint-store';

const SHARD0 = 'shardId-000000000000';

/** A state like the RTA daemon's: many agents, with quotes, backslashes, controls, emoji. */
function bigState(agents: number): { version: number; agents: unknown[] } {
  return {
    version: 2,
    agents: Array.from({ length: agents }, (_, i) => ({
      userCode: `agent.${i}"\\\n\u0001`,
      current: { stateCode: `Aux${i % 7}`, stateDescription: `Pause ☕ ${'é'.repeat(i % 5)} 🎧` },
      accepted: i % 3 === 0 ? null : { stateCode: 'Available', stateDescription: 'Available' },
      position: { eventTimestamp: new Date(i * 1000).toISOString(), sequenceNumber: `${i}` },
      skipped: undefined,
    })),
  };
}

describe('FileCheckpointStore commits a state by streaming its JSON text', () => {
  let dir: string;
  let path: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cps-stream-'));
    path = join(dir, 'checkpoints.json');
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes a state of several streamed slices that reads back equal, also after later writes', async () => {
    const state = bigState(5000); // ~1.3 MB of JSON: about twenty 64 KB slices
    const store = new FileCheckpointStore({ application: 'rta', stream: 'agents', path });
    await store.commit([[SHARD0, { sequenceNumber: '5' }]], state);
    const expected = JSON.parse(JSON.stringify(state));
    // the file is one valid document whose state text is exactly JSON.stringify's
    const doc = JSON.parse(await readFile(path, 'utf8'));
    expect(doc.scopes[0].committed.state).toBe(JSON.stringify(state));
    const reader = new FileCheckpointStore({ application: 'rta', stream: 'agents', path });
    expect((await reader.getState())?.state).toEqual(expected);
    // a later write copies the written bytes (range) instead of re-serialising
    await store.put(SHARD0, { sequenceNumber: '6' });
    expect((await reader.getState())?.state).toEqual(expected);
    expect((await reader.get(SHARD0))?.sequenceNumber).toBe('6');
    // and a second commit replaces it
    await store.commit([[SHARD0, { sequenceNumber: '7' }]], { version: 2, agents: [] });
    expect((await reader.getState())?.state).toEqual({ version: 2, agents: [] });
    expect(await readdir(dir)).toEqual(['checkpoints.json']);
  });

  it('refuses a state with a cycle or a bigint, leaving the file and the lock as they were', async () => {
    const store = new FileCheckpointStore({ application: 'rta', stream: 'agents', path });
    await store.commit([[SHARD0, { sequenceNumber: '1' }]], { ok: true });
    const before = await readFile(path, 'utf8');
    const cyclic: Record<string, unknown> = { agents: [] };
    (cyclic.agents as unknown[]).push({ back: cyclic });
    for (const bad of [cyclic, { agents: [{ n: 5n }] }]) {
      const err = await store
        .commit([[SHARD0, { sequenceNumber: '2' }]], bad)
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InvalidArgumentError);
      expect(String((err as Error).message)).toContain('cannot be written as JSON');
    }
    expect(await readFile(path, 'utf8')).toBe(before);
    expect(await readdir(dir)).toEqual(['checkpoints.json']);
    // nothing left pending or locked: the next commit goes through
    await store.commit([[SHARD0, { sequenceNumber: '3' }]], { ok: 3 });
    expect((await store.getState())?.state).toEqual({ ok: 3 });
  });

  it('refuses a state without JSON text before taking the lock', async () => {
    const store = new FileCheckpointStore({ application: 'rta', stream: 'agents', path });
    await expect(
      store.commit([[SHARD0, { sequenceNumber: '1' }]], undefined),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(await readdir(dir)).toEqual([]);
  });
});
