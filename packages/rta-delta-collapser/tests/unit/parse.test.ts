import { readFileSync } from 'node:fs';
import { parseAgentEvent, type RecordMeta } from '@connect-wfm/rta-delta-collapser';
import { agentEvent, bytes } from '../support/events.js';

const meta: RecordMeta = {
  shardId: 'shardId-000000000003',
  sequenceNumber: '49640000000000000001',
};
const sampleLines = readFileSync(
  new URL('../fixtures/agent-events-sample.jsonl', import.meta.url),
  'utf8',
)
  .trim()
  .split('\n');

function rejectionOf(data: Uint8Array, m: RecordMeta = meta) {
  const r = parseAgentEvent(data, m);
  if (r.ok) throw new Error('expected a rejection');
  return r.rejection;
}

describe('parseAgentEvent: usable events', () => {
  it('parses every sample event with its username and timestamp', () => {
    const users = sampleLines.map((line) => {
      const r = parseAgentEvent(bytes(line), meta);
      if (!r.ok) throw new Error(r.rejection.reason);
      expect(r.eventTimeMs).toBe(Date.parse(r.event.EventTimestamp));
      return r.event.CurrentAgentSnapshot.Configuration.Username;
    });
    expect(users).toEqual([
      'agent.alvarez',
      'agent.bianchi',
      'agent.bianchi',
      'agent.alvarez',
      'agent.alvarez',
      'agent.bianchi',
    ]);
  });

  it('tolerates unknown fields and does not copy them', () => {
    const event = agentEvent();
    event.SomethingNew = { nested: [1, 2, 3] };
    (event.CurrentAgentSnapshot as Record<string, unknown>).Skills = ['a'];
    const r = parseAgentEvent(bytes(event), meta);
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.event).not.toHaveProperty('SomethingNew');
      expect(r.event).not.toHaveProperty('PreviousAgentSnapshot');
    }
  });

  it('tolerates absent or null optional fields (EventId, Type, Contacts, Channel)', () => {
    const event = agentEvent({ statusType: null });
    delete event.EventId;
    (event.CurrentAgentSnapshot as Record<string, unknown>).Contacts = null;
    expect(parseAgentEvent(bytes(event), meta).ok).toBe(true);
    delete (event.CurrentAgentSnapshot as Record<string, unknown>).Contacts;
    expect(parseAgentEvent(bytes(event), meta).ok).toBe(true);
    const withContact = agentEvent({ contacts: [{ State: 'CONNECTED' }] });
    const contact = (withContact.CurrentAgentSnapshot as { Contacts: Record<string, unknown>[] })
      .Contacts[0];
    if (contact) contact.Channel = null;
    expect(parseAgentEvent(bytes(withContact), meta).ok).toBe(true);
  });

  it('accepts a byte order mark and a timestamp with an offset', () => {
    const event = agentEvent({ timestamp: '2023-05-02T10:00:00.500+02:00' });
    const data = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(bytes(event))]);
    const r = parseAgentEvent(data, meta);
    expect(r.ok && r.eventTimeMs).toBe(Date.parse('2023-05-02T08:00:00.500Z'));
  });
});

describe('parseAgentEvent: rejections (reported, never thrown)', () => {
  it('rejects invalid UTF-8 with shard and sequence number', () => {
    expect(rejectionOf(Uint8Array.from([0x7b, 0xff, 0xfe, 0x7d]))).toEqual({
      shardId: 'shardId-000000000003',
      sequenceNumber: '49640000000000000001',
      kind: 'invalid-utf8',
      reason: 'record data (4 bytes) is not valid UTF-8',
    });
  });

  it('rejects data that is not JSON, and the old `}{` concatenation', () => {
    expect(rejectionOf(bytes('not json')).kind).toBe('invalid-json');
    const two = `${JSON.stringify(agentEvent())}${JSON.stringify(agentEvent())}`;
    expect(rejectionOf(bytes(two)).kind).toBe('invalid-json');
    expect(rejectionOf(new Uint8Array(0)).kind).toBe('invalid-json');
  });

  it('never quotes the record in an invalid-json reason (personal data), and gives the byte offset', () => {
    const event = agentEvent({ eventId: 'e-json' });
    (
      event.CurrentAgentSnapshot as { Configuration: Record<string, unknown> }
    ).Configuration.LastName = 'Álvarez-Secret';
    const text = JSON.stringify(event);
    const broken = [
      text.replace('"LastName"', 'LastName'),
      text.replace('Álvarez-Secret"', 'Álvarez-Secret'),
      `${text}Álvarez-Secret`,
      'Álvarez-Secret',
      `{"LastName":"Álvarez-Secret" x}`,
    ];
    const reasons = broken.map((b) => rejectionOf(bytes(b)).reason);
    for (const reason of reasons) {
      expect(reason).not.toMatch(/Secret|lvarez|Unexpected token|"/);
      expect(reason).toMatch(/^record data \(\d+ bytes\) is not valid JSON/);
    }
    const unquotedAt = Buffer.from(text.slice(0, text.indexOf('"LastName"'))).byteLength;
    expect(reasons[0]).toBe(
      `record data (${Buffer.byteLength(broken[0] ?? '')} bytes) is not valid JSON: expected a property name at byte ${unquotedAt}`,
    );
    expect(reasons[2]).toMatch(/more data follows the JSON value .* at byte \d+$/);
    // 'x' is character 29 but byte 30: 'Á' takes two bytes in UTF-8.
    expect(reasons[4]).toMatch(/expected ',' or '\}' at byte 30$/);
  });

  it('rejects a username that is only white space as missing-username', () => {
    for (const blank of [' ', '\t\n', '\u00a0\u3000']) {
      const rejection = rejectionOf(bytes(agentEvent({ username: blank, eventId: 'e-blank' })));
      expect(rejection).toMatchObject({ kind: 'missing-username', eventId: 'e-blank' });
      expect(rejection.reason).toMatch(/Username: must contain a character other than white space/);
    }
    const padded = parseAgentEvent(bytes(agentEvent({ username: ' agent.padded ' })), meta);
    expect(padded.ok && padded.event.CurrentAgentSnapshot.Configuration.Username).toBe(
      ' agent.padded ',
    );
  });

  it('rejects missing data or a missing sequence number instead of throwing', () => {
    const event = bytes(agentEvent());
    expect(rejectionOf(null as unknown as Uint8Array)).toMatchObject({
      kind: 'missing-data',
      reason: 'record has no data',
    });
    expect(rejectionOf('{}' as unknown as Uint8Array).kind).toBe('missing-data');
    expect(
      rejectionOf(event, { shardId: 's', sequenceNumber: undefined as unknown as string }),
    ).toEqual({
      shardId: 's',
      sequenceNumber: '',
      kind: 'invalid-sequence-number',
      reason: 'record has no sequence number',
    });
  });

  it('rejects an event without a username, with its EventId', () => {
    const event = agentEvent({ eventId: 'e-no-user' });
    const config = (event.CurrentAgentSnapshot as { Configuration: Record<string, unknown> })
      .Configuration;
    delete config.Username;
    const rejection = rejectionOf(bytes(event));
    expect(rejection).toMatchObject({ kind: 'missing-username', eventId: 'e-no-user' });
    expect(rejection.reason).toMatch(/CurrentAgentSnapshot\.Configuration\.Username/);
    config.Username = '';
    expect(rejectionOf(bytes(event)).kind).toBe('missing-username');
    const noSnapshot = agentEvent({ eventId: 'e-no-snapshot' });
    noSnapshot.CurrentAgentSnapshot = null;
    expect(rejectionOf(bytes(noSnapshot))).toMatchObject({
      kind: 'missing-username',
      eventId: 'e-no-snapshot',
    });
  });

  it.each([
    [
      'EventTimestamp is a number',
      (e: Record<string, unknown>) => (e.EventTimestamp = 1683014400),
      /EventTimestamp/,
    ],
    [
      'EventTimestamp is not a date',
      (e: Record<string, unknown>) => (e.EventTimestamp = 'yesterday'),
      /EventTimestamp/,
    ],
    ['EventType is missing', (e: Record<string, unknown>) => delete e.EventType, /EventType/],
    ['EventId is a number', (e: Record<string, unknown>) => (e.EventId = 42), /EventId/],
    [
      'Contacts is not an array',
      (e: Record<string, unknown>) =>
        ((e.CurrentAgentSnapshot as Record<string, unknown>).Contacts = 'none'),
      /CurrentAgentSnapshot\.Contacts/,
    ],
    [
      'a contact State is a number',
      (e: Record<string, unknown>) =>
        ((e.CurrentAgentSnapshot as Record<string, unknown>).Contacts = [{ State: 3 }]),
      /CurrentAgentSnapshot\.Contacts\.0\.State/,
    ],
    [
      'AgentStatus is missing',
      (e: Record<string, unknown>) =>
        delete (e.CurrentAgentSnapshot as Record<string, unknown>).AgentStatus,
      /CurrentAgentSnapshot\.AgentStatus/,
    ],
  ])('rejects an event when %s', (_name, mutate, reason) => {
    const event = agentEvent({ eventId: 'e-bad' });
    mutate(event);
    const rejection = rejectionOf(bytes(event));
    expect(rejection.kind).toBe('invalid-event');
    expect(rejection.reason).toMatch(reason);
    if (typeof event.EventId === 'string') expect(rejection.eventId).toBe('e-bad');
    else expect(rejection).not.toHaveProperty('eventId');
  });

  it('rejects JSON that is not an object', () => {
    expect(rejectionOf(bytes('[1,2]')).kind).toBe('missing-username');
    expect(rejectionOf(bytes('null')).kind).toBe('missing-username');
  });

  it('rejects a sequence number that is not decimal digits', () => {
    const rejection = rejectionOf(bytes(agentEvent()), { shardId: 's', sequenceNumber: '12a' });
    expect(rejection.kind).toBe('invalid-sequence-number');
    expect(rejectionOf(bytes(agentEvent()), { shardId: 's', sequenceNumber: '' }).kind).toBe(
      'invalid-sequence-number',
    );
  });
});
