import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDemo, type VerificationSummary } from '../../src/demo.js';

const ARTIFACTS = join(import.meta.dirname, '..', '..', 'test-results');
// Bounded for a shared CI machine; DITL_HOURS=15 DITL_SPEED=400 runs the whole working day.
const HOURS = Number(process.env.DITL_HOURS ?? 2);
const SPEED = Number(process.env.DITL_SPEED ?? 60);

describe('a day in the life: 200 agents through both feeds, with faults on the way', () => {
  // figures: test-results/day-in-the-life.json
  let summary: VerificationSummary;

  beforeAll(async () => {
    const demo = await startDemo({
      agents: 200,
      speed: SPEED,
      simulatedSeconds: HOURS * 3600,
      chaos: true,
      outageMs: 60_000,
      faults: { duplicate: 0.005, reorder: 0.005, malformed: 0.004, lateUpdate: 0.05 },
    });
    summary = await demo.done;
    mkdirSync(ARTIFACTS, { recursive: true });
    writeFileSync(join(ARTIFACTS, 'day-in-the-life.json'), `${JSON.stringify(summary, null, 2)}\n`);
  }, 900_000);

  it('went through a daemon kill -9, a WFM outage, an sshd restart and a shard split', () => {
    const chaos = summary.notes.filter((n) => n.startsWith('chaos at'));
    expect(chaos).toHaveLength(4);
    expect(summary.notes.filter((n) => n.includes('failed'))).toEqual([]);
  });

  it('ends with the WFM holding the true state of every agent, none ever going backwards', () => {
    expect(summary.agents).toBe(200);
    expect(summary.mismatched).toEqual([]);
    expect(summary.regressions).toEqual([]);
    expect(summary.agentEvents).toBeGreaterThan(HOURS * 2000);
  });

  it('delivers every contact in the CSV files and quarantines every malformed record', () => {
    expect(summary.contacts).toBeGreaterThan(HOURS * 150);
    expect(summary.contactsDelivered).toBe(summary.contacts);
    expect(summary.reportFiles).toBeGreaterThanOrEqual(HOURS * 2 - 1);
    expect(summary.files).toBeGreaterThan(summary.reportFiles);
    expect(summary.injectedMalformedObjects).toBeGreaterThan(0);
    expect(summary.quarantinedObjects).toBe(summary.injectedMalformedObjects);
  });
});
