import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gzipSync } from 'node:zlib';
import {
  CTR_CSV_COLUMNS,
  CTR_CSV_HEADER,
  csvField,
  csvFileNameFor,
  ctrCsvRow,
  ctrCsvStream,
  type FirehoseBadItem,
  type FirehoseItem,
  firehoseObjectToCsv,
  InputFailedError,
  InvalidOptionsError,
  readFirehoseBatches,
} from '@connect-wfm/ctr-csv-mapper';
import Papa from 'papaparse';
import { chunked, collectBytes, ctr, sampleBytes, trackedSource } from './helpers.js';

const HEADER =
  'Agent_ARN,Agent_AfterContactWorkDuration,Agent_AgentInteractionDuration,Agent_CustomerHoldDuration,Agent_Username,Channel,ContactID,InitiationMethod,InitiationTimestamp,Queue_ARN,Queue_Duration,Queue_EnqueueTimestamp,Queue_Name,SystemEndpoint_Address,TransferCompletedTimestamp,TransferredToEndpoint';

const INSTANCE =
  'arn:aws:connect:eu-west-2:111122223333:instance/0c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f';

function item(record: Record<string, unknown>, offset = 0): FirehoseItem {
  return {
    kind: 'record',
    record: record as never,
    raw: record,
    offset,
    length: 1,
    sourceName: 't',
  };
}

/** The ContactID column (the 7th) of each line of CSV text whose fields hold no commas. */
function contactIds(csv: string): string[] {
  return csv
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split(',')[6] as string);
}

describe('raw CTR CSV (docs/historical-formats.md#raw-ctr-csv)', () => {
  it('has exactly the 16 header columns in order', () => {
    expect(CTR_CSV_HEADER).toBe(HEADER);
    expect(CTR_CSV_COLUMNS).toHaveLength(16);
  });

  it('converts the sample object to the expected CSV, byte for byte', async () => {
    const csv = (await collectBytes(firehoseObjectToCsv([sampleBytes()]))).toString('utf8');
    expect(csv).toBe(
      `${HEADER}\n` +
        'a1a1a1a1-0000-4000-8000-00000000000a,60,193,35,agent.alvarez,VOICE,c0000001-aaaa-4bbb-8ccc-000000000001,INBOUND,2023-05-02T08:04:20Z,9a9a9a9a-0000-4000-8000-000000000001,43,2023-05-02T08:04:31Z,Sales,+442079460000,2023-05-02T08:08:58Z,+442079461111\n' +
        ',,,,,VOICE,c0000002-aaaa-4bbb-8ccc-000000000002,INBOUND,2023-05-02T08:20:03Z,9a9a9a9a-0000-4000-8000-000000000001,152,2023-05-02T08:20:15Z,Sales,+442079460000,,\n' +
        'a1a1a1a1-0000-4000-8000-00000000000a,30,632,0,agent.alvarez,CHAT,c0000003-aaaa-4bbb-8ccc-000000000003,API,2023-05-02T08:30:00Z,9a9a9a9a-0000-4000-8000-000000000001,34,2023-05-02T08:30:06Z,Sales,,,\n',
    );
  });

  it('writes full ARNs with arn: full', () => {
    const rec = ctr('c', {
      Agent: { ARN: `${INSTANCE}/agent/ag-1` },
      Queue: { ARN: `${INSTANCE}/queue/q-1` },
    });
    const id = Papa.parse<string[]>(ctrCsvRow(rec as never)).data[0];
    const full = Papa.parse<string[]>(ctrCsvRow(rec as never, { arn: 'full' })).data[0];
    expect([id?.[0], id?.[9]]).toEqual(['ag-1', 'q-1']);
    expect([full?.[0], full?.[9]]).toEqual([`${INSTANCE}/agent/ag-1`, `${INSTANCE}/queue/q-1`]);
  });

  it('writes empty fields for null or missing values, never null/undefined/[object Object]', () => {
    const row = ctrCsvRow({
      ContactId: 'c',
      Agent: null,
      Queue: null,
      SystemEndpoint: null,
      TransferredToEndpoint: { Address: null },
    });
    expect(row).toBe(',,,,,,c,,,,,,,,,\n');
    const missing = ctrCsvRow({ ContactId: 'c', Agent: {}, Queue: {}, SystemEndpoint: {} });
    expect(missing).toBe(',,,,,,c,,,,,,,,,\n');
    expect(missing).not.toMatch(/null|undefined|object/);
  });

  it('writes TransferredToEndpoint as its Address and SystemEndpoint_Address as SystemEndpoint.Address', () => {
    const row = ctrCsvRow({
      ContactId: 'c',
      SystemEndpoint: { Address: '+4420' },
      TransferredToEndpoint: { Address: '+4421' },
    });
    const cells = Papa.parse<string[]>(row).data[0];
    expect(cells?.[13]).toBe('+4420');
    expect(cells?.[15]).toBe('+4421');
  });

  it('writes numbers as JSON has them and timestamps unchanged', () => {
    const row = ctrCsvRow({
      ContactId: 'c',
      Agent: {
        AfterContactWorkDuration: 0,
        AgentInteractionDuration: 1234567,
        CustomerHoldDuration: 2.5,
      },
      Queue: { Duration: 43, EnqueueTimestamp: '2026-11-24T08:15:02.123Z' },
      InitiationTimestamp: '2026-11-24T08:15:02Z',
    });
    expect(row).toBe(',0,1234567,2.5,,,c,,2026-11-24T08:15:02Z,,43,2026-11-24T08:15:02.123Z,,,,\n');
  });

  it('quotes per RFC 4180: comma, quote, CR and LF; doubles inner quotes', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('line\nbreak')).toBe('"line\nbreak"');
    expect(csvField('cr\rhere')).toBe('"cr\rhere"');
    expect(csvField(' spaced ')).toBe(' spaced ');
    expect(csvField(null)).toBe('');
    expect(csvField(undefined)).toBe('');
    expect(csvField(7)).toBe('7');
    const row = ctrCsvRow({ ContactId: 'c', Queue: { Name: 'Technical, "Tier 2"\r\n' } });
    expect(Papa.parse<string[]>(row).data[0]?.[12]).toBe('Technical, "Tier 2"\r\n');
  });

  it('is UTF-8 byte-exact without BOM, never splitting a multi-byte character', async () => {
    const names = ['Ventes 📞', 'Straße', '東京', 'emoji 👩‍👩‍👧'];
    const items = names.map((n, i) => item(ctr(`c${i}`, { Queue: { Name: n } })));
    const bytes = await collectBytes(ctrCsvStream(items, { chunkBytes: 1 }));
    expect(bytes.subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf]))).toBe(false);
    expect(new TextDecoder('utf-8', { fatal: true }).decode(bytes)).toContain('東京');
    const parsed = Papa.parse<string[]>(bytes.toString('utf8'), { skipEmptyLines: true }).data;
    expect(parsed.slice(1).map((r) => r[12])).toEqual(names);
  });

  it('keeps every record as read (no de-duplication) and skips bad items, reporting them', async () => {
    const bad: FirehoseBadItem = {
      kind: 'bad',
      offset: 5,
      end: 8,
      length: 3,
      preview: 'xyz',
      bytes: Buffer.from('xyz'),
      truncated: false,
      reason: 'invalid-json',
      detail: 'd',
      sourceName: 't',
    };
    const seen: FirehoseBadItem[] = [];
    const csv = (
      await collectBytes(
        ctrCsvStream([item(ctr('a')), bad, [item(ctr('a')), item(ctr('b'))]], {
          onBadRecord: (b) => seen.push(b),
          header: false,
        }),
      )
    ).toString();
    expect(contactIds(csv)).toEqual(['a', 'a', 'b']);
    expect(seen).toEqual([bad]);
  });

  it('produces the same CSV through ctrCsvStream(readFirehoseBatches) and the fused firehoseObjectToCsv', async () => {
    const buf = sampleBytes();
    const a = await collectBytes(ctrCsvStream(readFirehoseBatches(chunked(buf, 100))));
    const b = await collectBytes(firehoseObjectToCsv(chunked(buf, 100)));
    expect(a.equals(b)).toBe(true);
  });

  it('keeps input order when one chunk holds more records than a write batch', async () => {
    const records = Array.from({ length: 1000 }, (_, i) =>
      JSON.stringify({ ContactId: `c${i}`, Channel: i % 3 === 0 ? 'CHAT' : 'VOICÉ' }),
    );
    const object = Buffer.from(records.join(''), 'utf8');
    const fused = await collectBytes(firehoseObjectToCsv([object]));
    const rows = fused.toString('utf8').split('\n').slice(1, -1);
    expect(rows).toHaveLength(1000);
    expect(rows.map((r) => r.split(',')[6])).toEqual(records.map((_, i) => `c${i}`));
    expect(rows[1]).toBe(',,,,,VOICÉ,c1,,,,,,,,,');
    const viaItems = await collectBytes(ctrCsvStream(readFirehoseBatches([object])));
    expect(fused.equals(viaItems)).toBe(true);
  });

  it('writes non-ASCII text byte-exact, whether a record carries raw UTF-8, \\u escapes or both', async () => {
    const name = 'Ventes "FR", Straße 東京 📞';
    const raw = JSON.stringify({ ContactId: 'c-raw', Channel: 'VOICE', Queue: { Name: name } });
    const escaped = JSON.stringify({ ContactId: 'c-esc', Queue: { Name: name } }).replace(
      /[^\x20-\x7e]/g,
      (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`,
    );
    // Raw UTF-8 and an escape in one record, and a lone surrogate (valid JSON, not valid UTF-16).
    const mixed = `{"ContactId":"c-mix","Channel":"é\\u00e9","Queue":{"Name":"\\ud83d 📞"}}`;
    const object = Buffer.from(raw + escaped + mixed, 'utf8');
    const expected =
      `${HEADER}\n` +
      ',,,,,VOICE,c-raw,,,,,,"Ventes ""FR"", Straße 東京 📞",,,\n' +
      ',,,,,,c-esc,,,,,,"Ventes ""FR"", Straße 東京 📞",,,\n' +
      ',,,,,éé,c-mix,,,,,,\ufffd 📞,,,\n';
    for (const size of [1, 7, 64, object.length]) {
      const fused = await collectBytes(firehoseObjectToCsv(chunked(object, size)));
      expect(fused.toString('utf8')).toBe(expected);
      const viaItems = await collectBytes(ctrCsvStream(readFirehoseBatches(chunked(object, size))));
      expect(fused.equals(viaItems)).toBe(true);
    }
  });

  it('writes only the header for an empty object', async () => {
    expect((await collectBytes(firehoseObjectToCsv([]))).toString()).toBe(`${HEADER}\n`);
    expect((await collectBytes(firehoseObjectToCsv([], { header: false }))).length).toBe(0);
  });

  it('pulls input only as fast as the output is read (backpressure)', async () => {
    let produced = 0;
    const rec = Buffer.from(JSON.stringify(ctr('x', { Attributes: { pad: 'p'.repeat(2000) } })));
    function* source(): Generator<Buffer> {
      for (let i = 0; i < 5000; i++) {
        produced++;
        yield rec;
      }
    }
    const stream = firehoseObjectToCsv(source(), { chunkBytes: 1024 });
    let consumed = 0;
    let producedWhileStalled = -1;
    const slow = new Writable({
      highWaterMark: 1,
      write(_chunk, _enc, cb) {
        consumed++;
        if (consumed === 3) {
          // While this write is pending, the source must not be drained.
          setTimeout(() => {
            producedWhileStalled = produced;
            cb();
          }, 50);
        } else {
          cb();
        }
      },
    });
    await pipeline(stream, slow);
    expect(producedWhileStalled).toBeGreaterThan(0);
    expect(producedWhileStalled).toBeLessThan(200);
    expect(produced).toBe(5000);
  });

  it('rejects invalid options', () => {
    expect(() => ctrCsvStream([], { arn: 'short' as 'id' })).toThrow(InvalidOptionsError);
    expect(() => firehoseObjectToCsv([], { chunkBytes: 0 })).toThrow(/chunkBytes/);
  });
});

describe('firehoseObjectToCsv when the input fails or the consumer stops', () => {
  it('delivers the rows before a source failure, then errors with InputFailedError', async () => {
    async function* failing(): AsyncGenerator<Buffer> {
      yield Buffer.from(JSON.stringify(ctr('a')) + JSON.stringify(ctr('b')));
      yield Buffer.from(JSON.stringify(ctr('c')).slice(0, 10));
      throw new Error('connection reset');
    }
    const rows: string[] = [];
    let error: unknown;
    try {
      for await (const chunk of firehoseObjectToCsv(failing(), { sourceName: 's3://b/k' })) {
        rows.push(
          ...(chunk as Buffer)
            .toString()
            .split('\n')
            .filter((l) => l.length > 0),
        );
      }
    } catch (err) {
      error = err;
    }
    expect(rows.map((r) => r.split(',')[6])).toEqual(['ContactID', 'a', 'b']);
    expect(error).toBeInstanceOf(InputFailedError);
    expect((error as InputFailedError).sourceName).toBe('s3://b/k');
    expect((error as InputFailedError).message).toContain('connection reset');
  });

  it('closes the source when the output stream is destroyed early', async () => {
    const { source, state } = trackedSource(5000);
    const stream = firehoseObjectToCsv(source, { chunkBytes: 1024 });
    for await (const chunk of stream) {
      expect((chunk as Buffer).length).toBeGreaterThan(0);
      break;
    }
    await new Promise((resolve) => setImmediate(resolve));
    expect(stream.destroyed).toBe(true);
    expect(state.closed).toBe(true);
    expect(state.pulled).toBeLessThan(5000);
  });

  it('writes the rows of a GZIP object, and reports a truncated one as corrupt-gzip', async () => {
    const body = Buffer.from(JSON.stringify(ctr('a')) + JSON.stringify(ctr('b')));
    const gz = gzipSync(body);
    const whole = (await collectBytes(firehoseObjectToCsv([gz]))).toString();
    expect(contactIds(whole)).toEqual(['ContactID', 'a', 'b']);
    const bad: FirehoseBadItem[] = [];
    const cut = await collectBytes(
      firehoseObjectToCsv([gz.subarray(0, gz.length - 12)], { onBadRecord: (b) => bad.push(b) }),
    );
    expect(cut.toString().startsWith(HEADER)).toBe(true);
    expect(bad.map((b) => b.reason)).toContain('corrupt-gzip');
  });
});

describe('csvFileNameFor (docs/historical-formats.md#file-names)', () => {
  it('takes the base name, replaces ":" by "_" and appends .csv', () => {
    expect(csvFileNameFor('connect/ctr/2026/11/24/08/ctr-stream-1-2026-11-24-08-15-00-abc')).toBe(
      'ctr-stream-1-2026-11-24-08-15-00-abc.csv',
    );
    expect(csvFileNameFor('a/b/ctr:2026-11-24T08:15:00')).toBe('ctr_2026-11-24T08_15_00.csv');
    expect(csvFileNameFor('plain.json.gz')).toBe('plain.json.gz.csv');
  });
});
