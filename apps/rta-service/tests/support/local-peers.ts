/**
 * Local peers for trying the daemon by hand: kinesalite with a stream and a Teleopti RTA receiver
 * (current generation), plus a few agent events every few seconds. Prints the environment to give
 * the daemon, then runs until Ctrl-C.
 *
 *   TSX_TSCONFIG_PATH=../../tsconfig.json node --import tsx apps/rta-service/tests/support/local-peers.ts
 */
import { startKinesalite, startRtaReceiver } from '@connect-wfm/testkit';

const kinesis = await startKinesalite();
const stream = 'agent-events';
await kinesis.createStream(stream, 2);
const rta = await startRtaReceiver({});
const env = {
  RTA_STREAM: stream,
  AWS_REGION: kinesis.region,
  AWS_ACCESS_KEY_ID: kinesis.credentials.accessKeyId,
  AWS_SECRET_ACCESS_KEY: kinesis.credentials.secretAccessKey,
  RTA_KINESIS_ENDPOINT: kinesis.endpoint,
  RTA_WFM_URL: rta.url,
  RTA_AUTH_KEY: rta.authenticationKey,
  RTA_SOURCE_ID: '1',
  RTA_STORE: 'file:./rta-local-state.json',
  RTA_LOG_FORMAT: 'pretty',
};
process.stdout.write(
  `${Object.entries(env)
    .map(([k, v]) => `export ${k}=${JSON.stringify(v)}`)
    .join('\n')}\n# then: node apps/rta-service/dist/connect-wfm-rta.mjs\n`,
);
rta.on('batch', (b) =>
  process.stdout.write(
    `WFM got ${b.isSnapshot ? 'a snapshot' : 'a batch'}: ${b.states.map((s) => `${s.userCode}=${s.stateCode}`).join(', ')}\n`,
  ),
);
const statuses = ['Available', 'Break', 'Lunch', 'Training'];
let n = 0;
const timer = setInterval(() => {
  n += 1;
  const username = `agent.${n % 5}`;
  const now = new Date().toISOString();
  const event = {
    EventId: `local-${n}`,
    EventType: 'STATE_CHANGE',
    EventTimestamp: now,
    CurrentAgentSnapshot: {
      AgentStatus: {
        ARN: `arn:aws:connect:local:0:instance/i/agent-state/${n % 4}`,
        Name: statuses[n % 4],
      },
      Configuration: { Username: username },
      Contacts: [],
    },
  };
  void kinesis.putRecords(stream, [{ data: JSON.stringify(event), partitionKey: username }]);
}, 3000);
process.once('SIGINT', () => {
  clearInterval(timer);
  void rta.stop().then(() => kinesis.stop());
});
