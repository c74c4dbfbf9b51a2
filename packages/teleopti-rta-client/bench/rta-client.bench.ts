/**
 * Throughput of TeleoptiRtaClient posting 20,000 agents' states in batches of 1,000 to the testkit
 * RTA receiver (same process, 127.0.0.1), against a baseline measured in the same run: a raw
 * undici `fetch` loop posting the same, pre-serialized bodies sequentially over a keep-alive Agent.
 * The ratio shows what the client adds (state checks, serialization, bookkeeping) over bare HTTP.
 */
import {
  peakRssMb,
  printBench,
  printTable,
  seededRandom,
  startRtaReceiver,
} from '@connect-wfm/testkit';
import { Agent, fetch } from 'undici';
import { type RtaState, TeleoptiRtaClient } from '../src/index.js';
import { batchPrefix, serializeBatch } from '../src/wire.js';

const AGENTS = 20_000;
const CHUNK = 1000;
const ROUNDS = 7;
const KEY = 'bench-key';

const CODES = [
  'Available',
  'OnContact',
  'OnHold',
  'AfterContactWork',
  'Break',
  'Lunch',
  'Training',
  'LOGGED-OFF',
];

function generate(): RtaState[] {
  const rand = seededRandom(6);
  return Array.from({ length: AGENTS }, (_, i) => {
    const code = CODES[Math.floor(rand() * CODES.length)] ?? 'Available';
    return {
      userCode: `agent.${String(i).padStart(5, '0')}@example.com`,
      stateCode: code,
      stateDescription: code,
    };
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

async function main(): Promise<void> {
  const rta = await startRtaReceiver({ authenticationKey: KEY });
  const states = generate();
  const url = new URL('Rta/State/Batch', `${rta.url}/`);
  const prefix = batchPrefix(KEY, '1', false);
  const bodies: string[] = [];
  for (let start = 0; start < states.length; start += CHUNK) {
    bodies.push(serializeBatch(prefix, states.slice(start, start + CHUNK)));
  }
  const rawAgent = new Agent();
  const client = new TeleoptiRtaClient({
    baseUrl: rta.url,
    authenticationKey: KEY,
    sourceId: '1',
    chunkSize: CHUNK,
  });

  async function raw(): Promise<number> {
    const t0 = performance.now();
    for (const body of bodies) {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8' },
        body,
        dispatcher: rawAgent,
      });
      await res.text();
      if (res.status !== 200) throw new Error(`raw fetch got ${res.status}`);
    }
    return performance.now() - t0;
  }

  async function viaClient(): Promise<number> {
    const t0 = performance.now();
    const report = await client.sendStates(states);
    if (report.statesSent !== AGENTS) throw new Error(`client sent ${report.statesSent}`);
    return performance.now() - t0;
  }

  async function snapshot(): Promise<number> {
    const t0 = performance.now();
    await client.sendSnapshot(states);
    return performance.now() - t0;
  }

  const rawMs: number[] = [];
  const clientMs: number[] = [];
  const snapshotMs: number[] = [];
  for (let round = 0; round <= ROUNDS; round++) {
    // Alternate the order so that neither variant always pays for the other's garbage.
    let r: number;
    let c: number;
    rta.reset();
    if (round % 2 === 0) {
      r = await raw();
      rta.reset();
      c = await viaClient();
    } else {
      c = await viaClient();
      rta.reset();
      r = await raw();
    }
    if (rta.receivedStates().length !== AGENTS) throw new Error('receiver did not get every state');
    rta.reset();
    const s = await snapshot();
    if (round === 0) continue; // warm-up
    rawMs.push(r);
    clientMs.push(c);
    snapshotMs.push(s);
  }

  const requests = bodies.length;
  const rawMed = median(rawMs);
  const clientMed = median(clientMs);
  const statesPerS = (AGENTS / clientMed) * 1000;
  const rawStatesPerS = (AGENTS / rawMed) * 1000;
  printTable([
    {
      variant: 'raw fetch (pre-serialized)',
      ms: rawMed,
      states_per_s: rawStatesPerS,
      requests_per_s: (requests / rawMed) * 1000,
    },
    {
      variant: 'TeleoptiRtaClient.sendStates',
      ms: clientMed,
      states_per_s: statesPerS,
      requests_per_s: (requests / clientMed) * 1000,
    },
    {
      variant: 'TeleoptiRtaClient.sendSnapshot (1 request)',
      ms: median(snapshotMs),
      states_per_s: (AGENTS / median(snapshotMs)) * 1000,
      requests_per_s: 1000 / median(snapshotMs),
    },
  ]);
  printBench('rta-client', {
    agents: AGENTS,
    chunk: CHUNK,
    states_per_s: Math.round(statesPerS),
    requests_per_s: Math.round((requests / clientMed) * 1000),
    raw_fetch_states_per_s: Math.round(rawStatesPerS),
    ratio_vs_raw_fetch: Math.round((statesPerS / rawStatesPerS) * 100) / 100,
    snapshot_20k_ms: Math.round(median(snapshotMs)),
    peak_rss_mb: peakRssMb(),
  });

  await client.close();
  await rawAgent.close();
  await rta.stop();
}

await main();
