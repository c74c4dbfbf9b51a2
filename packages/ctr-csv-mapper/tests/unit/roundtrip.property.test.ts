import { gzipSync } from 'node:zlib';
import {
  ctrCsvStream,
  ctrSchema,
  type FirehoseBadItem,
  type FirehoseRecordItem,
  firehoseObjectToCsv,
} from '@connect-wfm/ctr-csv-mapper';
import fc from 'fast-check';
import Papa from 'papaparse';
import { passesCtrFastCheck } from '../../src/schema.js';
import { collectBytes, cutAt, readAll } from './helpers.js';

/**
 * Property (issue point 6): any set of CTRs with arbitrary strings, written as a Firehose object
 * (no delimiter or newline-separated, GZIP or not, split into arbitrary chunks) with malformed
 * records interleaved, comes back through reader → CSV writer → papaparse with the same field
 * values, and every good record is present.
 *
 * The malformed records interleaved ("the recovery rule" in the README):
 *   truncated  a good record's JSON cut at any character
 *   garbage    non-JSON text from an alphabet without `}` and capitals (so it can open
 *              structures and strings but never close one, nor spell a CTR)
 *   balanced   invalid JSON with balanced braces (trailing comma, `=` for `:`)
 *   not-a-ctr  valid JSON that is not a CTR (no ContactId, or a wrong type in a used field)
 */

const special = fc.constantFrom(
  '"',
  ',',
  '\r',
  '\n',
  '\r\n',
  '}{',
  '{',
  '}',
  '\\',
  '"}{"',
  '📞',
  'é',
  '東京',
  '👩‍👩‍👧',
  ' ',
  '\t',
  '\u0000',
  '\u2028',
  '/',
);
const text = fc
  .array(
    fc.oneof(special, fc.string({ maxLength: 4 }), fc.string({ unit: 'grapheme', maxLength: 3 })),
    {
      maxLength: 5,
    },
  )
  .map((parts) => parts.join(''));
const timestamp = fc
  .date({
    min: new Date('2020-01-01T00:00:00Z'),
    max: new Date('2030-12-31T23:59:59Z'),
    noInvalidDate: true,
  })
  .chain((d) => fc.constantFrom(d.toISOString(), `${d.toISOString().slice(0, 19)}Z`));
const duration = fc.oneof(fc.nat(100_000), fc.double({ min: 0, max: 1e6, noNaN: true }));
const arn = fc
  .tuple(text, fc.constantFrom('agent', 'queue'), text)
  .map(([i, kind, id]) => `arn:aws:connect:eu-west-2:1:instance/${i}/${kind}/${id}`);
const endpoint = fc.option(
  fc.record({ Address: fc.option(text, { nil: null }), Type: text }, { requiredKeys: [] }),
  {
    nil: null,
  },
);

const goodCtr = fc.record(
  {
    ContactId: text.filter((s) => s.length > 0),
    Channel: fc.option(text, { nil: null }),
    InitiationMethod: fc.option(text, { nil: null }),
    InitiationTimestamp: fc.option(timestamp, { nil: null }),
    LastUpdateTimestamp: fc.option(timestamp, { nil: null }),
    TransferCompletedTimestamp: fc.option(timestamp, { nil: null }),
    TransferredToEndpoint: endpoint,
    SystemEndpoint: endpoint,
    Agent: fc.option(
      fc.record(
        {
          ARN: fc.option(arn, { nil: null }),
          Username: fc.option(text, { nil: null }),
          ConnectedToAgentTimestamp: fc.option(timestamp, { nil: null }),
          AgentInteractionDuration: fc.option(duration, { nil: null }),
          AfterContactWorkDuration: fc.option(duration, { nil: null }),
          CustomerHoldDuration: fc.option(duration, { nil: null }),
          HierarchyGroups: fc.dictionary(text, text, { maxKeys: 2 }),
        },
        { requiredKeys: [] },
      ),
      { nil: null },
    ),
    Queue: fc.option(
      fc.record(
        {
          ARN: fc.option(arn, { nil: null }),
          Name: fc.option(text, { nil: null }),
          EnqueueTimestamp: fc.option(timestamp, { nil: null }),
          Duration: fc.option(duration, { nil: null }),
        },
        { requiredKeys: [] },
      ),
      { nil: null },
    ),
    Attributes: fc.dictionary(text, text, { maxKeys: 3 }),
  },
  { requiredKeys: ['ContactId'] },
);

type Ctr = Record<string, unknown> & { ContactId: string };

const malformed = fc.oneof(
  fc.tuple(goodCtr, fc.nat()).map(([c, n]) => {
    const s = JSON.stringify(c);
    return s.slice(0, 1 + (n % (s.length - 1)));
  }),
  fc
    .array(fc.constantFrom(...'ab yz09:,[]{"\\\t;#é📞\n'.split('')), {
      minLength: 1,
      maxLength: 30,
    })
    .map((a) => a.join(''))
    .filter((s) => s.trim().length > 0),
  goodCtr.map((c) => `${JSON.stringify(c).slice(0, -1)},}`),
  goodCtr.map((c) => JSON.stringify(c).replace(':', '=')),
  fc.record({ Channel: text, Note: text }).map((o) => JSON.stringify(o)),
  goodCtr.map((c) => JSON.stringify({ ...c, Queue: { Duration: '43' } })),
);

/** JSON with every character outside printable ASCII written as a `\uXXXX` escape. */
function escapeNonAscii(json: string): string {
  return json.replace(
    /[^\x20-\x7e]/g,
    (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

// Good records are written as JSON.stringify does (raw UTF-8) or with `\u` escapes, which take
// different decoding paths in the fused CSV writer.
const entry = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .tuple(goodCtr, fc.boolean())
      .map(([c, escaped]) => ({ good: true as const, ctr: c as Ctr, escaped })),
  },
  { weight: 1, arbitrary: malformed.map((m) => ({ good: false as const, text: m })) },
);

function expectedRow(c: Ctr): string[] {
  // NUL characters are dropped from text (docs/historical-formats.md#csv-rules).
  const s = (v: unknown): string =>
    v === null || v === undefined ? '' : String(v).replaceAll('\u0000', '');
  const id = (v: unknown): string =>
    typeof v === 'string' ? v.slice(v.lastIndexOf('/') + 1).replaceAll('\u0000', '') : '';
  const a = c.Agent as Record<string, unknown> | null | undefined;
  const q = c.Queue as Record<string, unknown> | null | undefined;
  const se = c.SystemEndpoint as Record<string, unknown> | null | undefined;
  const te = c.TransferredToEndpoint as Record<string, unknown> | null | undefined;
  return [
    id(a?.ARN),
    s(a?.AfterContactWorkDuration),
    s(a?.AgentInteractionDuration),
    s(a?.CustomerHoldDuration),
    s(a?.Username),
    s(c.Channel),
    s(c.ContactId),
    s(c.InitiationMethod),
    s(c.InitiationTimestamp),
    id(q?.ARN),
    s(q?.Duration),
    s(q?.EnqueueTimestamp),
    s(q?.Name),
    s(se?.Address),
    s(c.TransferCompletedTimestamp),
    s(te?.Address),
  ];
}

describe('reader → CSV writer → CSV parser round trip (property)', () => {
  it('returns every good record with the same field values and reports every malformed one', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(entry, { maxLength: 12 }),
        fc.constantFrom('concatenated', 'newline'),
        fc.boolean(),
        fc.array(fc.nat(), { maxLength: 6 }),
        async (entries, framing, gzip, cuts) => {
          // Build the object, remembering where each malformed entry starts (first non-space byte).
          const parts: Buffer[] = [];
          const malformedStarts: number[] = [];
          const goodBodies: string[] = [];
          let offset = 0;
          for (const [i, e] of entries.entries()) {
            const json = e.good ? JSON.stringify(e.ctr) : e.text;
            const body = e.good && e.escaped ? escapeNonAscii(json) : json;
            if (e.good) goodBodies.push(body);
            const bytes = Buffer.from(
              body + (framing === 'newline' && i < entries.length - 1 ? '\n' : ''),
              'utf8',
            );
            if (!e.good)
              malformedStarts.push(
                offset + Buffer.from(body.slice(0, body.length - body.trimStart().length)).length,
              );
            parts.push(bytes);
            offset += bytes.length;
          }
          const plain = Buffer.concat(parts);
          const object = gzip ? gzipSync(plain) : plain;
          const chunks = cutAt(
            object,
            cuts.map((c) => c % (object.length + 1)),
          );
          const goods = entries
            .filter((e): e is { good: true; ctr: Ctr; escaped: boolean } => e.good)
            .map((e) => e.ctr);

          // Reader: every good record, in order, unchanged; bad items only where malformed bytes are.
          const items = await readAll(chunks, { sourceName: 'prop' });
          const recs = items.filter((i): i is FirehoseRecordItem => i.kind === 'record');
          const bad = items.filter((i): i is FirehoseBadItem => i.kind === 'bad');
          expect(recs.map((r) => r.raw)).toEqual(goods.map((g) => JSON.parse(JSON.stringify(g))));
          expect(recs.map((r) => plain.subarray(r.offset, r.offset + r.length).toString())).toEqual(
            goodBodies,
          );
          for (const start of malformedStarts) {
            expect(bad.some((b) => b.offset <= start && start < b.offset + b.length)).toBe(true);
          }
          for (const b of bad) expect(malformedStarts).toContain(b.offset);

          // CSV: parse back with papaparse; same values per good record.
          const csvBytes = await collectBytes(firehoseObjectToCsv(chunks));
          // The fused byte writer and the string writer of ctrCsvStream agree byte for byte.
          expect(csvBytes.equals(await collectBytes(ctrCsvStream(items)))).toBe(true);
          const csv = csvBytes.toString('utf8');
          const parsed = Papa.parse<string[]>(csv, {
            delimiter: ',',
            newline: '\n',
            skipEmptyLines: false,
          });
          expect(parsed.errors).toEqual([]);
          const rows = parsed.data.slice(1);
          expect(rows.pop()).toEqual(['']);
          expect(rows).toEqual(goods.map(expectedRow));
        },
      ),
      { numRuns: Number(process.env.CTR_PROP_RUNS ?? 300) },
    );
  });

  it('the fast pre-check never accepts a value the zod schema rejects', () => {
    const anyValue = fc.oneof(
      fc.string(),
      fc.integer(),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
      fc.constant([]),
      fc.constant({}),
    );
    const loose = fc.record(
      {
        ContactId: fc.oneof(fc.string(), anyValue),
        Channel: anyValue,
        InitiationTimestamp: fc.oneof(timestamp, anyValue),
        LastUpdateTimestamp: fc.oneof(timestamp, anyValue),
        TransferredToEndpoint: fc.oneof(endpoint, anyValue),
        Agent: fc.oneof(
          fc.record(
            {
              Username: anyValue,
              AgentInteractionDuration: fc.oneof(duration, anyValue),
              ConnectedToAgentTimestamp: fc.oneof(timestamp, anyValue),
            },
            { requiredKeys: [] },
          ),
          anyValue,
        ),
        Queue: fc.oneof(
          fc.record(
            { Duration: fc.oneof(duration, anyValue), Name: anyValue },
            { requiredKeys: [] },
          ),
          anyValue,
        ),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.oneof(loose, goodCtr), (value) => {
        const obj = value as Record<string, unknown>;
        if (passesCtrFastCheck(obj)) expect(ctrSchema.safeParse(obj).success).toBe(true);
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(goodCtr, (c) => {
        expect(passesCtrFastCheck(c as Record<string, unknown>)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('fast pre-check and zod agree on timestamp-shaped strings, in range or not, as Date.UTC reads them', () => {
    const d2 = fc.integer({ min: 0, max: 99 }).map((n) => String(n).padStart(2, '0'));
    const shaped = fc
      .record({
        year: fc.integer({ min: 1896, max: 2404 }).map(String),
        month: d2,
        day: d2,
        hour: d2,
        minute: d2,
        second: fc.option(d2, { nil: undefined }),
        zone: fc.oneof(
          fc.constant('Z'),
          fc
            .tuple(fc.constantFrom('+', '-'), d2, fc.constantFrom(':', ''), d2)
            .map((t) => t.join('')),
        ),
      })
      .map((t) => ({
        ...t,
        text: `${t.year}-${t.month}-${t.day}T${t.hour}:${t.minute}${t.second === undefined ? '' : `:${t.second}`}${t.zone}`,
      }));
    fc.assert(
      fc.property(shaped, (t) => {
        // The reference: a date and time exist when Date.UTC does not roll any part over.
        const y = Number(t.year);
        const ms = Date.UTC(
          y,
          Number(t.month) - 1,
          Number(t.day),
          Number(t.hour),
          Number(t.minute),
          Number(t.second ?? 0),
        );
        const back = new Date(ms);
        const zoneOk =
          t.zone === 'Z' || (Number(t.zone.slice(1, 3)) <= 23 && Number(t.zone.slice(-2)) <= 59);
        const exists =
          back.getUTCFullYear() === y &&
          back.getUTCMonth() === Number(t.month) - 1 &&
          back.getUTCDate() === Number(t.day) &&
          back.getUTCHours() === Number(t.hour) &&
          back.getUTCMinutes() === Number(t.minute) &&
          back.getUTCSeconds() === Number(t.second ?? 0) &&
          zoneOk;
        const rec = {
          ContactId: 'c',
          InitiationTimestamp: t.text,
          Queue: { EnqueueTimestamp: t.text },
        };
        expect(passesCtrFastCheck(rec)).toBe(exists);
        expect(ctrSchema.safeParse(rec).success).toBe(exists);
      }),
      { numRuns: 3000 },
    );
  });
});
