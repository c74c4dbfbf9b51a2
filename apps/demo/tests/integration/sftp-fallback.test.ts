import { startDemo, type VerificationSummary } from '../../src/demo.js';

// The demo on a machine without OpenSSH: `sftp: 'ssh2'` (DEMO_SFTP=ssh2) forces the testkit's
// in-process ssh2 SFTP server, so this path runs in CI where /usr/sbin/sshd is installed.
describe('the demo with the ssh2 SFTP server instead of OpenSSH', () => {
  let summary: VerificationSummary;
  let kind: string | undefined;

  beforeAll(async () => {
    const demo = await startDemo({
      agents: 20,
      speed: 240,
      start: new Date('2026-12-07T09:00:00Z'),
      simulatedSeconds: 2 * 3600,
      statistics: 'queue',
      sftp: 'ssh2',
      faults: { malformed: 0.02, lateUpdate: 0.1 },
    });
    kind = demo.sftp;
    summary = await demo.done;
  }, 300_000);

  it('delivers every contact, the reports and the statistics through it', () => {
    expect(kind).toBe('ssh2');
    expect(summary.notes.filter((n) => /not wired|failed/.test(n))).toEqual([]);
    expect(summary.contacts).toBeGreaterThan(50);
    expect(summary.contactsDelivered).toBe(summary.contacts);
    expect(summary.reportFiles).toBeGreaterThanOrEqual(3);
    expect(summary.statistics?.queueRows).toBeGreaterThan(8);
    expect(summary.statistics?.mismatches).toEqual([]);
    expect(summary.quarantinedObjects).toBe(summary.injectedMalformedObjects);
    expect(summary.mismatched).toEqual([]);
  });
});
