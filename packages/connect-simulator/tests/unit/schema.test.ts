import {
  type AgentEventOutput,
  agentEventSchema,
  type CtrObjectOutput,
  contactTraceRecordSchema,
} from '../../src/index.js';
import { readItems, runModel } from './helpers.js';

describe('records follow the documented Connect schemas', () => {
  const { outputs } = runModel({ seed: 21, agents: 15 }, 10);
  const events = outputs.filter((o): o is AgentEventOutput => o.kind === 'agent-event');
  const objects = outputs.filter((o): o is CtrObjectOutput => o.kind === 'ctr-object');

  it('writes every agent event type, each valid, partition key = AgentARN', () => {
    const types = new Set<string>();
    for (const e of events) {
      const record = agentEventSchema.parse(JSON.parse(e.data));
      expect(e.partitionKey).toBe(record.AgentARN);
      expect(e.username).toBe(record.CurrentAgentSnapshot.Configuration.Username);
      types.add(record.EventType);
    }
    expect([...types].sort()).toEqual(['HEART_BEAT', 'LOGIN', 'LOGOUT', 'STATE_CHANGE']);
  });

  it('sends a heart beat only after 120 simulated seconds without another event', () => {
    const last = new Map<string, number>();
    let beats = 0;
    for (const e of events) {
      const r = agentEventSchema.parse(JSON.parse(e.data));
      const ts = Date.parse(r.EventTimestamp);
      const prev = last.get(r.AgentARN);
      if (r.EventType === 'HEART_BEAT') {
        beats++;
        expect(prev).toBeDefined();
        expect(ts - (prev as number)).toBeGreaterThanOrEqual(119_990);
        expect(ts - (prev as number)).toBeLessThan(121_000);
      }
      last.set(r.AgentARN, ts);
    }
    expect(beats).toBeGreaterThan(50);
  });

  it('covers every contact state and concurrent chats', () => {
    const states = new Set<string>();
    let concurrentChats = 0;
    for (const e of events) {
      const contacts = agentEventSchema.parse(JSON.parse(e.data)).CurrentAgentSnapshot.Contacts;
      for (const c of contacts) states.add(c.State);
      if (contacts.filter((c) => c.Channel === 'CHAT').length > 1) concurrentChats++;
    }
    for (const s of ['CONNECTING', 'INCOMING', 'CONNECTED', 'CONNECTED_ONHOLD', 'ENDED']) {
      expect(states).toContain(s);
    }
    expect(states.has('MISSED') || states.has('REJECTED')).toBe(true);
    expect(concurrentChats).toBeGreaterThan(0);
  });

  it('writes CTR objects of valid CTRs under Firehose keys, gzip when asked', async () => {
    expect(objects.length).toBeGreaterThan(3);
    const methods = new Set<string>();
    for (const o of objects) {
      expect(o.key).toMatch(
        /^ctr\/\d{4}\/\d{2}\/\d{2}\/\d{2}\/connect-ctr-1-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-[0-9a-f-]{36}$/,
      );
      const items = await readItems(o.body, o.key);
      expect(items.every((i) => i.kind === 'record')).toBe(true);
      expect(items).toHaveLength(o.records);
      for (const i of items) {
        if (i.kind !== 'record') continue;
        const ctr = contactTraceRecordSchema.parse(i.raw);
        methods.add(ctr.InitiationMethod);
      }
    }
    expect([...methods].sort()).toEqual(['API', 'CALLBACK', 'INBOUND', 'TRANSFER']);
    const gz = runModel({ seed: 21, agents: 5, firehose: { gzip: true, delimiter: 'newline' } }, 2);
    const gzObject = gz.outputs.find((o): o is CtrObjectOutput => o.kind === 'ctr-object');
    expect(gzObject?.key.endsWith('.gz')).toBe(true);
    expect(gzObject?.gzip).toBe(true);
    expect(gzObject?.body.toString()).toContain('}\n{');
  });

  it('flushes an object when the buffer size is reached', () => {
    const small = runModel(
      { seed: 21, agents: 15, firehose: { bufferBytes: 10_000, bufferSeconds: 900 } },
      3,
    );
    const sizes = small.outputs
      .filter((o): o is CtrObjectOutput => o.kind === 'ctr-object')
      .map((o) => o.body.length);
    expect(sizes.length).toBeGreaterThan(5);
    expect(sizes.every((s) => s < 10_000 + 4_000)).toBe(true);
    expect(sizes.filter((s) => s >= 10_000).length).toBeGreaterThan(sizes.length / 2);
  });
});
