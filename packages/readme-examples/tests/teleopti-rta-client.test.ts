// The Teleopti RTA client's README example against the testkit's receiver, which behaves as the
// documented Teleopti API does (docs/teleopti-rta.md).
import { type RtaReceiver, startRtaReceiver } from '@connect-wfm/testkit';
import { readmeExample, runExample } from './support.js';

describe('the teleopti-rta-client README example', () => {
  let rta: RtaReceiver;

  beforeAll(async () => {
    rta = await startRtaReceiver({ sourceIds: ['1'] });
  });

  afterAll(async () => {
    await rta?.stop();
  });

  it('sends a snapshot, then a state change, and the receiver holds the newest state', async () => {
    const run = await runExample(readmeExample('teleopti-rta-client'), {
      env: { RTA_BASE_URL: rta.url, RTA_AUTH_KEY: rta.authenticationKey },
    });
    run.cleanUp();
    expect({ exit: run.exit, out: run.out }).toEqual({ exit: 0, out: expect.any(String) });
    expect(run.stdout).toMatch(/^1 \[\]$/m); // statesSent, rejectedUsers
    expect(run.out).not.toContain(rta.authenticationKey);
    const batches = rta.batches.map((b) => ({
      snapshot: b.isSnapshot,
      states: b.states.map((s) => `${s.userCode}=${s.stateCode}`),
    }));
    expect(batches).toEqual([
      { snapshot: true, states: ['agent.alvarez=Available'] },
      { snapshot: false, states: ['agent.alvarez=OnContact'] },
    ]);
  });
});
