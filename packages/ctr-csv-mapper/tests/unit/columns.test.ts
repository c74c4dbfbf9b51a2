import {
  AGENT_QUEUE_STATS_COLUMNS,
  CTR_CSV_COLUMNS,
  CTR_CSV_HEADER,
  CTR_CSV_SPEC,
  type CtrRecord,
  csvField,
  csvLine,
  ctrCsvRow,
  firehoseObjectToCsv,
  IntervalStatsAccumulator,
  QUEUE_STATS_COLUMNS,
} from '@connect-wfm/ctr-csv-mapper';
import fc from 'fast-check';
import { collectBytes } from './helpers.js';

/** Text that exercises every branch of the writers: quoting, NUL, non-ASCII, formula starts. */
const text = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc
    .array(fc.constantFrom(...'ab,"\n\r\u0000\u001f=+-@\té東📞/\\'.split('')), { maxLength: 10 })
    .map((cs) => cs.join('')),
);
const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
const num = fc.oneof(
  fc.integer({ min: -1000, max: 1_000_000_000 }),
  fc.double({ min: -1000, max: 1e9, noNaN: true }),
);
const ts = fc.constantFrom('2026-11-24T08:15:00Z', '2026-11-24T08:15:00.123+01:00');

const record: fc.Arbitrary<CtrRecord> = fc.record({
  ContactId: text.filter((t) => t.length > 0),
  Channel: opt(text),
  InitiationMethod: opt(text),
  InitiationTimestamp: opt(ts),
  TransferCompletedTimestamp: opt(ts),
  TransferredToEndpoint: opt(fc.record({ Address: opt(text) })),
  SystemEndpoint: opt(fc.record({ Address: opt(text) })),
  Agent: opt(
    fc.record({
      ARN: opt(text),
      Username: opt(text),
      AfterContactWorkDuration: opt(num),
      AgentInteractionDuration: opt(num),
      CustomerHoldDuration: opt(num),
    }),
  ),
  Queue: opt(
    fc.record({ ARN: opt(text), Name: opt(text), EnqueueTimestamp: opt(ts), Duration: opt(num) }),
  ),
});

describe('each CSV column list is defined once and every writer follows it (issue 18)', () => {
  it('derives the raw CTR header from the column spec', () => {
    expect(CTR_CSV_COLUMNS).toEqual(CTR_CSV_SPEC.map((c) => c.column));
    expect(CTR_CSV_HEADER).toBe(CTR_CSV_COLUMNS.join(','));
    expect(CTR_CSV_COLUMNS).toHaveLength(16);
  });

  it('the hand-specialized byte writer writes exactly what the spec-driven row writer writes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(record, { minLength: 1, maxLength: 8 }),
        fc.constantFrom('id' as const, 'full' as const),
        fc.constantFrom('none' as const, 'quote-prefix' as const),
        async (records, arn, formulaEscape) => {
          const input = Buffer.from(records.map((r) => JSON.stringify(r)).join(''));
          const csv = await collectBytes(firehoseObjectToCsv([input], { arn, formulaEscape }));
          const expected = `${CTR_CSV_HEADER}\n${records.map((r) => ctrCsvRow(r, { arn, formulaEscape })).join('')}`;
          // Compared as UTF-8 bytes (a lone surrogate is written as U+FFFD by both).
          expect(csv.equals(Buffer.from(expected, 'utf8'))).toBe(true);
        },
      ),
      { numRuns: Number(process.env.CTR_PROP_RUNS ?? 200) },
    );
  });

  it('statistics rows have exactly the columns of their lists, and toCsv writes those rows', () => {
    const acc = new IntervalStatsAccumulator({ intervalMinutes: 15 });
    for (let i = 0; i < 40; i++) {
      acc.add({
        ContactId: `c${i}`,
        LastUpdateTimestamp: '2026-11-24T09:00:00Z',
        TransferCompletedTimestamp: i % 5 === 0 ? '2026-11-24T08:20:00Z' : null,
        Agent:
          i % 3 === 0
            ? null
            : {
                Username: i % 2 === 0 ? '=agent,"x"' : 'agent.b',
                ConnectedToAgentTimestamp: '2026-11-24T08:10:00Z',
                AgentInteractionDuration: i,
                AfterContactWorkDuration: 2.5,
              },
        Queue: {
          ARN: `arn/queue/q${i % 2}`,
          Name: i % 4 === 0 ? '@sales' : 'Sales',
          EnqueueTimestamp: `2026-11-24T08:${String(i).padStart(2, '0')}:00Z`,
          Duration: i % 30,
        },
      });
    }
    for (const formulaEscape of ['none', 'quote-prefix'] as const) {
      const queue = acc.queueRows();
      expect(queue.length).toBeGreaterThan(1);
      for (const row of queue) expect(Object.keys(row)).toEqual([...QUEUE_STATS_COLUMNS]);
      expect(acc.toCsv('queue', { formulaEscape })).toBe(
        csvLine(QUEUE_STATS_COLUMNS) +
          queue
            .map((r) =>
              csvLine(
                QUEUE_STATS_COLUMNS.map((c) => r[c]),
                formulaEscape,
              ),
            )
            .join(''),
      );
      const agentQueue = acc.agentQueueRows();
      for (const row of agentQueue)
        expect(Object.keys(row)).toEqual([...AGENT_QUEUE_STATS_COLUMNS]);
      expect(acc.toCsv('agent-queue', { formulaEscape })).toBe(
        csvLine(AGENT_QUEUE_STATS_COLUMNS) +
          agentQueue
            .map((r) =>
              csvLine(
                AGENT_QUEUE_STATS_COLUMNS.map((c) => r[c]),
                formulaEscape,
              ),
            )
            .join(''),
      );
    }
  });
});

describe('CSV text hardening (issue 19 weak spots)', () => {
  it('never writes a raw NUL: a \\u0000 escape in a value is dropped, on every path', async () => {
    const input = Buffer.from('{"ContactId":"c\\u0000d","Channel":"VO\\u0000ICE"}');
    const fused = await collectBytes(firehoseObjectToCsv([input]));
    expect(fused.includes(0)).toBe(false);
    expect(fused.toString().split('\n')[1]).toBe(',,,,,VOICE,cd,,,,,,,,,');
    expect(csvField('a\u0000b')).toBe('ab');
    expect(ctrCsvRow({ ContactId: '\u0000x' })).toBe(',,,,,,x,,,,,,,,,\n');
  });

  it('writes formula-like text as it is by default, and defuses it with quote-prefix', async () => {
    const input = Buffer.from(
      JSON.stringify({
        ContactId: 'c1',
        Channel: '=HYPERLINK("http://x")',
        SystemEndpoint: { Address: '+441234567890' },
        Agent: { Username: '@evil', AgentInteractionDuration: -5 },
        Queue: { Name: '-2+3' },
      }),
    );
    const plain = (await collectBytes(firehoseObjectToCsv([input]))).toString().split('\n')[1];
    expect(plain).toBe(',,-5,,@evil,"=HYPERLINK(""http://x"")",c1,,,,,,-2+3,+441234567890,,');
    const safe = (
      await collectBytes(firehoseObjectToCsv([input], { formulaEscape: 'quote-prefix' }))
    )
      .toString()
      .split('\n')[1];
    expect(safe).toBe(
      `,,-5,,"'@evil","'=HYPERLINK(""http://x"")",c1,,,,,,"'-2+3","'+441234567890",,`,
    );
    expect(csvField('\tcmd', 'quote-prefix')).toBe(`"'\tcmd"`);
    expect(csvField('plain', 'quote-prefix')).toBe('plain');
  });
});
