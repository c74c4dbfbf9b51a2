import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDemo, type VerificationSummary } from '../../src/demo.js';

const ARTIFACTS = join(import.meta.dirname, '..', '..', 'test-results');
const HOUR_MS = 3_600_000;
// One whole day of the contact center as the model defines it: the first shifts start at 06:00 UTC,
// the last ones end at 22:00 and their agents log out by about 22:10 once their last contact is
// done, so 06:00-22:30 holds every login, contact and logout of the day (the hours before are
// empty; after it only the post-logout heart beats go on). DITL_* override for a quicker look.
const OPEN_HOUR = Number(process.env.DITL_OPEN_HOUR ?? 6);
const HOURS = Number(process.env.DITL_HOURS ?? 16.5);
// 16.5 h at 300x is 198 s of wall time; the busiest hour (~11,700 agent events) then puts ~970
// records/s, about what kinesalite takes here.
const SPEED = Number(process.env.DITL_SPEED ?? 300);

describe('a day in the life: 200 agents through both feeds, with faults on the way', () => {
  // figures: test-results/day-in-the-life.json
  let summary: VerificationSummary;

  beforeAll(async () => {
    const began = Date.now();
    const today = Math.floor(began / (24 * HOUR_MS)) * 24 * HOUR_MS;
    const demo = await startDemo({
      agents: 200,
      speed: SPEED,
      start: new Date(today + OPEN_HOUR * HOUR_MS),
      simulatedSeconds: HOURS * 3600,
      chaos: true,
      outageMs: 60_000,
      statistics: 'both',
      faults: { duplicate: 0.005, reorder: 0.005, malformed: 0.004, lateUpdate: 0.05 },
    });
    summary = await demo.done;
    mkdirSync(ARTIFACTS, { recursive: true });
    const figures = {
      wallSeconds: Math.round((Date.now() - began) / 1000),
      speed: SPEED,
      ...summary,
    };
    writeFileSync(join(ARTIFACTS, 'day-in-the-life.json'), `${JSON.stringify(figures, null, 2)}\n`);
  }, 900_000);

  it('went through a daemon kill -9, a WFM outage, an SFTP server restart and a shard split', () => {
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

  it('delivers every contact in exactly one row per record written, and quarantines every malformed record', () => {
    expect(summary.contacts).toBeGreaterThan(HOURS * 150);
    expect(summary.contactsDelivered).toBe(summary.contacts);
    // through the kill -9, the SFTP server restart and redelivered messages: no record lost, none
    // delivered twice (an object's file is written once, under one name)
    expect(summary.rowCountMismatches).toEqual([]);
    expect(summary.csvRows).toBe(summary.ctrRecordsWritten);
    expect(summary.reportFiles).toBeGreaterThanOrEqual(HOURS * 2 - 1);
    expect(summary.files).toBeGreaterThan(summary.reportFiles);
    expect(summary.injectedMalformedObjects).toBeGreaterThan(0);
    expect(summary.quarantinedObjects).toBe(summary.injectedMalformedObjects);
  });

  it('delivers interval statistics whose per-object partials add up to the truth', () => {
    const stats = summary.statistics;
    expect(stats).not.toBeNull();
    expect(stats?.mismatches).toEqual([]);
    // every 15-minute interval of the day has rows, for the queues and for their agents
    expect(stats?.queueRows).toBeGreaterThan(HOURS * 4);
    expect(stats?.agentQueueRows).toBeGreaterThan(stats?.queueRows ?? 0);
    // late CTR updates land in later objects: those contacts are in two partials
    expect(stats?.contactsInSeveralObjects).toBeGreaterThan(0);
  });
});
