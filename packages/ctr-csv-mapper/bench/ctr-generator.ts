/**
 * Seeded generator of realistic contact trace records for the benchmark: the shape of
 * the reference sample (tests/fixtures/ctr-sample.firehose) (answered calls with holds and transfers, abandoned
 * calls, chats), with attributes that sometimes hold commas, quotes, newlines and non-ASCII text (and
 * 1 in 200 holds `}{`), so the CSV quoting path is exercised.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';

const INSTANCE =
  'arn:aws:connect:eu-west-2:111122223333:instance/0c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f';
const QUEUES = ['Sales', 'Support', 'Billing', 'Retention', 'Technical, Tier 2', 'Ventes FR'];
const AGENTS = Array.from({ length: 120 }, (_, i) => `agent.${String(i).padStart(3, '0')}`);
const NOTES = [
  'customer asked about "premium" plan',
  'callback, then transfer',
  'Straße 12, München',
  'multi\nline note',
  'emoji 📞 ok',
  'plain note',
];
/** About 1 record in 200 carries JSON-looking text with `}{` in an attribute (the split trap). */
const TRAP_NOTE = 'json-looking text: }{"ContactId":"x"}{';

function hex(rand: () => number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += Math.floor(rand() * 16).toString(16);
  return s;
}

function uuid(rand: () => number): string {
  return `${hex(rand, 8)}-${hex(rand, 4)}-4${hex(rand, 3)}-8${hex(rand, 3)}-${hex(rand, 12)}`;
}

function iso(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}

/** One CTR as a plain object. `i` makes ContactIds unique; about 2% repeat an earlier id. */
export function generateCtr(rand: () => number, i: number): Record<string, unknown> {
  const base = Date.UTC(2026, 10, 24, 0, 0, 0) + Math.floor(rand() * 86_400) * 1000;
  const channel = rand() < 0.8 ? 'VOICE' : 'CHAT';
  const queueIdx = Math.floor(rand() * QUEUES.length);
  const answered = rand() < 0.85;
  const queued = rand() < 0.95;
  const qDuration = Math.floor(rand() * (answered ? 120 : 40));
  const enqueue = base + 11_000;
  const dequeue = enqueue + qDuration * 1000;
  const talk = 30 + Math.floor(rand() * 600);
  const acw = Math.floor(rand() * 120);
  const hold = rand() < 0.3 ? Math.floor(rand() * 90) : 0;
  const transfer = answered && rand() < 0.1;
  const agentIdx = Math.floor(rand() * AGENTS.length);
  const disconnect = dequeue + (answered ? (talk + hold) * 1000 : 0) + 2000;
  const id = rand() < 0.02 && i > 10 ? Math.floor(rand() * i) : i;
  const attributes: Record<string, string> = {
    intent: rand() < 0.5 ? 'upgrade' : 'billing',
    language: rand() < 0.7 ? 'en-GB' : 'fr-FR',
    crmCase: `CASE-${hex(rand, 10)}`,
  };
  if (rand() < 0.3) attributes.note = NOTES[Math.floor(rand() * NOTES.length)] as string;
  if (rand() < 0.005) attributes.trap = TRAP_NOTE;
  return {
    AWSAccountId: '111122223333',
    AWSContactTraceRecordFormatVersion: '2017-03-10',
    Agent:
      queued && answered
        ? {
            ARN: `${INSTANCE}/agent/a1a1a1a1-0000-4000-8000-${String(agentIdx).padStart(12, '0')}`,
            AfterContactWorkDuration: acw,
            AfterContactWorkEndTimestamp: iso(disconnect + acw * 1000),
            AfterContactWorkStartTimestamp: iso(disconnect),
            AgentInteractionDuration: talk,
            ConnectedToAgentTimestamp: iso(dequeue),
            CustomerHoldDuration: hold,
            HierarchyGroups: {
              Level1: { ARN: `${INSTANCE}/agent-group/${uuid(rand)}`, GroupName: 'UK-Site' },
              Level2: { ARN: `${INSTANCE}/agent-group/${uuid(rand)}`, GroupName: 'Team-North' },
            },
            LongestHoldDuration: hold,
            NumberOfHolds: hold > 0 ? 1 : 0,
            RoutingProfile: { ARN: `${INSTANCE}/routing-profile/${uuid(rand)}`, Name: 'Omni' },
            Username: AGENTS[agentIdx],
          }
        : null,
    AgentConnectionAttempts: answered ? 1 : 0,
    Attributes: attributes,
    Channel: channel,
    ConnectedToSystemTimestamp: iso(base),
    ContactId: `c${String(id).padStart(7, '0')}-aaaa-4bbb-8ccc-${hex(rand, 12)}`,
    CustomerEndpoint: {
      Address: `+44770090${String(i % 10_000).padStart(4, '0')}`,
      Type: 'TELEPHONE_NUMBER',
    },
    DisconnectReason: answered ? 'AGENT_DISCONNECT' : 'CUSTOMER_DISCONNECT',
    DisconnectTimestamp: iso(disconnect),
    InitialContactId: null,
    InitiationMethod: rand() < 0.9 ? 'INBOUND' : 'CALLBACK',
    InitiationTimestamp: iso(base),
    InstanceARN: INSTANCE,
    LastUpdateTimestamp: iso(disconnect + 60_000),
    MediaStreams: [{ Type: channel === 'VOICE' ? 'AUDIO' : 'CHAT' }],
    NextContactId: null,
    PreviousContactId: null,
    Queue: queued
      ? {
          ARN: `${INSTANCE}/queue/9a9a9a9a-0000-4000-8000-${String(queueIdx).padStart(12, '0')}`,
          DequeueTimestamp: iso(dequeue),
          Duration: qDuration,
          EnqueueTimestamp: iso(enqueue),
          Name: QUEUES[queueIdx],
        }
      : null,
    Recording: null,
    Recordings: null,
    References: [],
    ScheduledTimestamp: null,
    SystemEndpoint: { Address: '+442079460000', Type: 'TELEPHONE_NUMBER' },
    TransferCompletedTimestamp: transfer ? iso(dequeue + talk * 500) : null,
    TransferredToEndpoint: transfer ? { Address: '+442079461111', Type: 'TELEPHONE_NUMBER' } : null,
  };
}

/**
 * Streams a Firehose object of at least `targetBytes` to `path` (records concatenated with no
 * delimiter, or one per line), never holding more than one batch in memory.
 * Returns the byte size and record count.
 */
export async function writeFirehoseObject(
  path: string,
  targetBytes: number,
  rand: () => number,
  framing: 'concatenated' | 'newline',
): Promise<{ bytes: number; records: number }> {
  const out = createWriteStream(path);
  const sep = framing === 'newline' ? '\n' : '';
  let bytes = 0;
  let records = 0;
  while (bytes < targetBytes) {
    let batch = '';
    for (let k = 0; k < 200; k++) {
      batch += JSON.stringify(generateCtr(rand, records)) + sep;
      records++;
    }
    const buf = Buffer.from(batch, 'utf8');
    bytes += buf.length;
    if (!out.write(buf)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return { bytes, records };
}
