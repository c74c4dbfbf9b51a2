import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import {
  type FirehoseBadItem,
  type FirehoseItem,
  type FirehoseRecordItem,
  firehoseObjectToCsv,
  InputFailedError,
  InvalidOptionsError,
  readFirehoseBatches,
} from '@connect-wfm/ctr-csv-mapper';
import { FirehoseScanner, type ScanSink } from '../../src/scanner.js';
import {
  chunked,
  collectBytes,
  ctr,
  cutAt,
  failingAfter,
  readAll,
  readUntilError,
  sampleBytes,
  trackedSource,
} from './helpers.js';

function records(items: FirehoseItem[]): FirehoseRecordItem[] {
  return items.filter((i): i is FirehoseRecordItem => i.kind === 'record');
}

function bads(items: FirehoseItem[]): FirehoseBadItem[] {
  return items.filter((i): i is FirehoseBadItem => i.kind === 'bad');
}

function ids(items: FirehoseItem[]): string[] {
  return records(items).map((r) => r.record.ContactId);
}

const SAMPLE_IDS = [
  'c0000001-aaaa-4bbb-8ccc-000000000001',
  'c0000002-aaaa-4bbb-8ccc-000000000002',
  'c0000003-aaaa-4bbb-8ccc-000000000003',
];

describe('readFirehoseRecords: framing', () => {
  it('reads the three sample CTRs (no delimiter) with their byte offsets', async () => {
    const buf = sampleBytes();
    const items = await readAll([buf], { sourceName: 'sample.json' });
    expect(bads(items)).toEqual([]);
    expect(ids(items)).toEqual(SAMPLE_IDS);
    const recs = records(items);
    expect(recs[0]?.offset).toBe(0);
    for (const r of recs) {
      expect(buf[r.offset]).toBe(0x7b);
      expect(buf[r.offset + r.length - 1]).toBe(0x7d);
      expect(JSON.parse(buf.toString('utf8', r.offset, r.offset + r.length))).toEqual(r.raw);
      expect(r.sourceName).toBe('sample.json');
    }
    expect(recs[1]?.offset).toBe((recs[0]?.offset ?? 0) + (recs[0]?.length ?? 0));
  });

  it('reads newline-separated records (LF and CRLF, blank lines)', async () => {
    const text = `${JSON.stringify(ctr('a'))}\n\n${JSON.stringify(ctr('b'))}\r\n${JSON.stringify(ctr('c'))}\n`;
    const items = await readAll([Buffer.from(text)]);
    expect(bads(items)).toEqual([]);
    expect(ids(items)).toEqual(['a', 'b', 'c']);
  });

  it('reads pretty-printed records and records separated by spaces', async () => {
    const text = `${JSON.stringify(ctr('a'), null, 2)}  ${JSON.stringify(ctr('b'), null, '\t')}`;
    const items = await readAll([Buffer.from(text)]);
    expect(bads(items)).toEqual([]);
    expect(ids(items)).toEqual(['a', 'b']);
  });

  it('never splits on }{ inside a string', async () => {
    const tricky = ctr('a', { Attributes: { note: '}{"ContactId":"fake"}{', q: '\\"}{' } });
    const text = `${JSON.stringify(tricky)}${JSON.stringify(ctr('b'))}`;
    const items = await readAll([Buffer.from(text)]);
    expect(bads(items)).toEqual([]);
    expect(ids(items)).toEqual(['a', 'b']);
    expect(records(items)[0]?.raw).toEqual(tricky);
  });

  it('reads every record when most records hold }{ in a string (the guessed end is skipped, then tried again)', async () => {
    // Past 8 wrong guesses in a row the fast path is skipped for 256 records, then tried again:
    // 700 records cross several skip windows, with plain records, a newline and a bad stretch
    // inside them.
    const parts: string[] = [];
    const expected: string[] = [];
    for (let i = 0; i < 700; i++) {
      const id = `r${i}`;
      const plain = i % 97 === 5;
      const rec = plain ? ctr(id) : ctr(id, { Attributes: { note: `ünïcode }{ ${i}` } });
      parts.push(JSON.stringify(rec) + (i === 300 ? '\n' : ''));
      expected.push(id);
      if (i === 400) parts.push('{"ContactId":"cut}{');
    }
    const buf = Buffer.from(parts.join(''));
    const whole = await readAll([buf]);
    expect(ids(whole)).toEqual(expected);
    expect(bads(whole).map((b) => b.reason)).toEqual(['invalid-json']);
    for (const r of records(whole)) {
      expect(JSON.parse(buf.subarray(r.offset, r.offset + r.length).toString())).toEqual(r.raw);
    }
    expect(await readAll(chunked(buf, 4093))).toEqual(whole);
    const csv = await collectBytes(firehoseObjectToCsv([buf], { onBadRecord: () => {} }));
    const csvChunked = await collectBytes(
      firehoseObjectToCsv(chunked(buf, 4093), { onBadRecord: () => {} }),
    );
    expect(csvChunked.equals(csv)).toBe(true);
    // Attributes are not CSV columns: the same rows as the records without the note.
    const plain = Buffer.from(expected.map((id) => JSON.stringify(ctr(id))).join(''));
    expect(csv.equals(await collectBytes(firehoseObjectToCsv([plain])))).toBe(true);
  });

  it('reads records whose real end looks unlikely (`}{ `) or that hold many `}{ ` in strings', async () => {
    // The fast path skips a `}{` not followed by `"`, `}` or a line break (up to 4 per record):
    // a real end written that way, or a record with more such `}{` than that, goes to the byte
    // scanner instead, with the same result.
    const many = Array.from({ length: 7 }, (_, k) => `}{ ${k}`).join(' ');
    const texts: string[] = [];
    const expected: string[] = [];
    for (let i = 0; i < 60; i++) {
      const id = `u${i}`;
      const note = i % 3 === 0 ? many : `x }{ y ${i}`;
      const json = JSON.stringify(ctr(id, { Attributes: { note } }));
      texts.push(i % 4 === 1 ? `{ ${json.slice(1)}` : json);
      expected.push(id);
    }
    const buf = Buffer.from(texts.join(''));
    const whole = await readAll([buf]);
    expect(bads(whole)).toEqual([]);
    expect(ids(whole)).toEqual(expected);
    for (const size of [1, 2, 3, 17, 256, 1000]) {
      expect(await readAll(chunked(buf, size))).toEqual(whole);
    }
    const csv = await collectBytes(firehoseObjectToCsv([buf]));
    const plain = Buffer.from(expected.map((id) => JSON.stringify(ctr(id))).join(''));
    expect(csv.equals(await collectBytes(firehoseObjectToCsv(chunked(buf, 97))))).toBe(true);
    expect(csv.equals(await collectBytes(firehoseObjectToCsv([plain])))).toBe(true);
  });

  it('gives the same items whatever the chunking (every split point of the sample)', async () => {
    const buf = sampleBytes();
    const whole = await readAll([buf]);
    for (let cut = 1; cut < buf.length; cut += 7) {
      const items = await readAll(cutAt(buf, [cut]));
      expect(items).toEqual(whole);
    }
    expect(await readAll(chunked(buf, 1))).toEqual(whole);
  });

  it('reads objects that change framing part-way, whatever the chunking', async () => {
    // The fast path tries the framing of the previous record first; a change must still read
    // every record, with the same offsets, at every split point and in both CSV paths.
    const tricky = ctr('t', { Attributes: { note: '}{ and\nnot an end' } });
    const [a, b, c, d, e, f] = ['a', 'b', 'c', 'd', 'e', 'f'].map((id) => JSON.stringify(ctr(id)));
    const text = `${a}${b}\n${c}\r\n${JSON.stringify(tricky)}\n${d}${e}  \n ${f}`;
    const buf = Buffer.from(text);
    const whole = await readAll([buf]);
    expect(bads(whole)).toEqual([]);
    expect(ids(whole)).toEqual(['a', 'b', 'c', 't', 'd', 'e', 'f']);
    for (const r of records(whole)) {
      expect(JSON.parse(buf.subarray(r.offset, r.offset + r.length).toString())).toEqual(r.raw);
    }
    const csv = await collectBytes(firehoseObjectToCsv([buf]));
    for (let cut = 1; cut < buf.length; cut += 3) {
      expect(await readAll(cutAt(buf, [cut, cut + 41, cut + 97]))).toEqual(whole);
      expect(
        (await collectBytes(firehoseObjectToCsv(cutAt(buf, [cut, cut + 41])))).equals(csv),
      ).toBe(true);
    }
  });
  it('detects GZIP by its magic bytes, not by a name, and reports decompressed offsets', async () => {
    const buf = sampleBytes();
    const plain = await readAll([buf], { sourceName: 'x.json' });
    const zipped = await readAll(chunked(gzipSync(buf), 13), { sourceName: 'x.json' });
    expect(zipped).toEqual(plain);
  });

  it('reads a multi-member GZIP object (several gzip streams concatenated)', async () => {
    const a = Buffer.from(JSON.stringify(ctr('a')));
    const b = Buffer.from(JSON.stringify(ctr('b')));
    const items = await readAll([Buffer.concat([gzipSync(a), gzipSync(b)])]);
    expect(ids(items)).toEqual(['a', 'b']);
  });

  it('skips a UTF-8 byte order mark at the start', async () => {
    const items = await readAll([
      Buffer.from([0xef, 0xbb]),
      Buffer.from(`\u00bf${JSON.stringify(ctr('a'))}`, 'latin1'),
    ]);
    expect(bads(items)).toEqual([]);
    expect(ids(items)).toEqual(['a']);
  });

  it('accepts a Node Readable, Uint8Array chunks and an empty input', async () => {
    const buf = sampleBytes();
    expect(ids(await readAll(Readable.from([buf])))).toEqual(SAMPLE_IDS);
    expect(ids(await readAll([new Uint8Array(buf)]))).toEqual(SAMPLE_IDS);
    expect(await readAll([])).toEqual([]);
    expect(await readAll([Buffer.from(' \n ')])).toEqual([]);
  });

  it('keeps unknown fields in raw and validates the used ones', async () => {
    const rec = ctr('a', { NewField2030: { x: [1, 2] }, Queue: null, Agent: undefined });
    const [item] = records(await readAll([Buffer.from(JSON.stringify(rec))]));
    expect(item?.raw).toEqual(JSON.parse(JSON.stringify(rec)));
    expect(item?.record.ContactId).toBe('a');
  });

  it('yields batches per chunk with readFirehoseBatches', async () => {
    const buf = sampleBytes();
    const batches: FirehoseItem[][] = [];
    for await (const batch of readFirehoseBatches(chunked(buf, 2000))) batches.push(batch);
    expect(batches.length).toBeGreaterThan(1);
    expect(ids(batches.flat())).toEqual(SAMPLE_IDS);
  });
});

describe('readFirehoseRecords: a malformed record costs only itself', () => {
  const a = JSON.stringify(ctr('a'));
  const b = JSON.stringify(ctr('b'));
  const c = JSON.stringify(ctr('c'));

  it('reports a truncated record with its offset and first bytes, and keeps the neighbours', async () => {
    const truncated = JSON.stringify(ctr('t', { Queue: { Name: 'Sales', Duration: 3 } })).slice(
      0,
      40,
    );
    const text = a + truncated + b + c;
    const items = await readAll([Buffer.from(text)], { sourceName: 'obj-1' });
    expect(ids(items)).toEqual(['a', 'b', 'c']);
    const [bad] = bads(items);
    expect(bads(items)).toHaveLength(1);
    expect(bad?.offset).toBe(a.length);
    expect(bad?.length).toBe(truncated.length);
    expect(bad?.preview).toBe(truncated);
    expect(bad?.reason).toBe('invalid-json');
    expect(bad?.sourceName).toBe('obj-1');
  });

  it('recovers when a record is cut inside a string', async () => {
    const text = `${a}{"ContactId":"t","Attributes":{"x":"cut her${b}\n${c}`;
    const items = await readAll([Buffer.from(text)]);
    expect(ids(items)).toEqual(['a', 'b', 'c']);
    expect(bads(items)).toHaveLength(1);
  });

  it('recovers when a record is cut right after a colon or a comma (the next record nests)', async () => {
    for (const cut of ['{"ContactId":"t","Agent":', '{"ContactId":"t",', '{"x":[', '{']) {
      const items = await readAll([Buffer.from(a + cut + b + c)]);
      expect(ids(items)).toEqual(['a', 'b', 'c']);
      expect(bads(items).map((x) => x.offset)).toEqual([a.length]);
    }
  });

  it('reports a truncated record at the end of the input', async () => {
    const items = await readAll([Buffer.from(`${a}${b.slice(0, 10)}`)]);
    expect(ids(items)).toEqual(['a']);
    expect(bads(items)).toMatchObject([{ offset: a.length, reason: 'truncated', length: 10 }]);
  });

  it('reports text between records and a stray closing brace', async () => {
    const items = await readAll([Buffer.from(`${a}garbage, not json}}${b}\n}\n${c}`)]);
    expect(ids(items)).toEqual(['a', 'b', 'c']);
    const bad = bads(items);
    expect(bad.map((x) => x.offset)).toEqual([a.length, a.length + 19 + b.length + 1]);
    expect(bad[0]?.preview).toBe('garbage, not json}}');
  });

  it('reports invalid JSON with balanced braces', async () => {
    const invalid = '{"ContactId":"x",}';
    const items = await readAll([Buffer.from(a + invalid + b)]);
    expect(ids(items)).toEqual(['a', 'b']);
    expect(bads(items)).toMatchObject([
      { offset: a.length, length: invalid.length, reason: 'invalid-json' },
    ]);
  });

  it('reports a JSON object without ContactId as not a CTR', async () => {
    const items = await readAll([Buffer.from(`${a}{"Channel":"VOICE"}${b}`)]);
    expect(ids(items)).toEqual(['a', 'b']);
    expect(bads(items)).toMatchObject([
      { reason: 'not-a-ctr', detail: 'the record has no ContactId' },
    ]);
  });

  it('reports wrong types in used fields as bad records instead of throwing', async () => {
    const wrong = [
      ctr('w1', { Queue: { Duration: '43' } }),
      ctr('w2', { Agent: 'agent.alvarez' }),
      { ContactId: 42 },
      { ContactId: '' },
      ctr('w3', { InitiationTimestamp: 'yesterday' }),
      ctr('w4', { TransferredToEndpoint: { Address: 7 } }),
      ctr('w5', { Agent: { AgentInteractionDuration: [] } }),
      ctr('w6', { Queue: { EnqueueTimestamp: '2026-13-45T27:99:00Z' } }),
      ctr('w7', { LastUpdateTimestamp: '2025-02-29T08:00:00Z' }),
      ctr('w8', { InitiationTimestamp: '2026-11-24T08:00:00+24:00' }),
    ];
    // Written as JSON text: a duration beyond 2^53 would come out with other digits.
    const huge = `{"ContactId":"w9","Agent":{"CustomerHoldDuration":12345678901234567890}}`;
    const infinite = `{"ContactId":"w10","Queue":{"Duration":1e400}}`;
    const text = [a, ...wrong.map((w) => JSON.stringify(w)), huge, infinite, b].join('');
    const items = await readAll([Buffer.from(text)]);
    expect(ids(items)).toEqual(['a', 'b']);
    const bad = bads(items);
    expect(bad).toHaveLength(wrong.length + 2);
    expect(bad.every((x) => x.reason === 'not-a-ctr')).toBe(true);
    expect(bad[0]?.detail).toContain('Queue.Duration');
    expect(bad[2]?.detail).toContain('ContactId');
    expect(bad[7]?.detail).toBe(
      'Queue.EnqueueTimestamp: not a real date and time (month, day, hour, minute, second or offset out of range)',
    );
    expect(bad[8]?.detail).toContain('LastUpdateTimestamp: not a real date and time');
    expect(bad[9]?.detail).toContain('InitiationTimestamp: not a real date and time');
    expect(bad[10]?.detail).toContain(
      'Agent.CustomerHoldDuration: too large to be written exactly',
    );
    expect(bad[11]?.detail).toContain('Queue.Duration');
  });

  it('accepts real dates at the edges: 29 February of a leap year, 23:59:59, offsets up to ±23:59', async () => {
    const edge = [
      ctr('e1', { InitiationTimestamp: '2028-02-29T23:59:59.999Z' }),
      ctr('e2', { LastUpdateTimestamp: '2000-02-29T00:00:00+23:59' }),
      ctr('e3', {
        Queue: { EnqueueTimestamp: '2026-12-31T23:59-0930', Duration: 9007199254740991 },
      }),
    ];
    const items = await readAll([Buffer.from(edge.map((e) => JSON.stringify(e)).join('\n'))]);
    expect(bads(items)).toEqual([]);
    expect(ids(items)).toEqual(['e1', 'e2', 'e3']);
  });

  it('accepts null and missing values in every used field', async () => {
    const rec = {
      ContactId: 'n',
      Agent: { ARN: null, Username: null, AgentInteractionDuration: null },
      Queue: { ARN: null, Name: null, EnqueueTimestamp: null, Duration: null },
      SystemEndpoint: null,
      TransferredToEndpoint: null,
      Channel: null,
      InitiationTimestamp: null,
    };
    expect(ids(await readAll([Buffer.from(JSON.stringify(rec))]))).toEqual(['n']);
  });

  it('reports invalid UTF-8 and keeps the neighbours', async () => {
    const badBytes = Buffer.concat([
      Buffer.from('{"ContactId":"u","x":"'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('"}'),
    ]);
    const items = await readAll([Buffer.concat([Buffer.from(a), badBytes, Buffer.from(b)])]);
    expect(ids(items)).toEqual(['a', 'b']);
    expect(bads(items)).toMatchObject([{ offset: a.length, reason: 'invalid-utf8' }]);
  });

  it('keeps multi-byte characters that span chunks', async () => {
    const rec = JSON.stringify(ctr('é', { Queue: { Name: 'Ventes 📞 Straße' } }));
    const buf = Buffer.from(rec + rec);
    for (let cut = 1; cut < buf.length; cut++) {
      const items = await readAll(cutAt(buf, [cut]));
      expect(bads(items)).toEqual([]);
      expect(records(items).map((r) => r.record.Queue?.Name)).toEqual([
        'Ventes 📞 Straße',
        'Ventes 📞 Straße',
      ]);
    }
  });

  it('gives a bad region only its first 200 bytes as preview', async () => {
    const garbage = 'x'.repeat(500);
    const items = await readAll(chunked(Buffer.from(a + garbage + b), 64));
    const [bad] = bads(items);
    expect(bad?.preview).toBe('x'.repeat(200));
    expect(bad?.length).toBe(500);
    expect(ids(items)).toEqual(['a', 'b']);
  });

  it('bounds a record that never ends with maxRecordBytes and recovers after it', async () => {
    const open = `{"ContactId":"big","x":"${'y'.repeat(5000)}`; // an unterminated string
    const items = await readAll(chunked(Buffer.from(`${a}${open}${b}${c}`), 512), {
      maxRecordBytes: 1024,
    });
    expect(bads(items)[0]).toMatchObject({ offset: a.length });
    expect(ids(items)).toEqual(['a', 'b', 'c']);
  });

  it('reports a corrupt GZIP stream after delivering the records before the damage', async () => {
    let seed = 7;
    const noise = (): string => {
      let out = '';
      for (let k = 0; k < 40; k++) {
        seed = (seed * 1103515245 + 12345) >>> 0;
        out += (seed >>> 16).toString(36);
      }
      return out;
    };
    const all = Array.from({ length: 1500 }, (_, i) =>
      ctr(`id-${i}`, { Attributes: { noise: noise() } }),
    );
    const zipped = gzipSync(Buffer.from(all.map((r) => JSON.stringify(r)).join('')));
    const truncated = zipped.subarray(0, zipped.length >> 1);
    const items = await readAll(chunked(truncated, 100), { sourceName: 'x.gz' });
    const got = ids(items);
    expect(got.length).toBeGreaterThan(10);
    expect(got.length).toBeLessThan(all.length);
    expect(got).toEqual(all.slice(0, got.length).map((r) => r.ContactId));
    expect(bads(items).at(-1)).toMatchObject({ reason: 'corrupt-gzip', sourceName: 'x.gz' });

    // A damaged byte in the middle: what decompresses before it is read, the damage is reported
    // (bytes inflated after the damage are garbage, which GZIP only detects at its end).
    const flipped = Buffer.from(zipped);
    const mid = flipped.length >> 1;
    flipped[mid] = (flipped[mid] ?? 0) ^ 0xff;
    const items2 = await readAll([flipped], { sourceName: 'x.gz' });
    expect(ids(items2).slice(0, 100)).toEqual(all.slice(0, 100).map((r) => r.ContactId));
    expect(bads(items2).at(-1)).toMatchObject({ reason: 'corrupt-gzip' });
  });

  it('calls onBadRecord and the logger for each bad record', async () => {
    const seen: FirehoseBadItem[] = [];
    const warnings: unknown[] = [];
    const logger = {
      debug: () => {},
      info: () => {},
      warn: (_m: string, ctx?: Record<string, unknown>) => warnings.push(ctx),
      error: () => {},
    };
    await readAll([Buffer.from(`${a}oops${b}`)], {
      onBadRecord: (x) => seen.push(x),
      logger,
      sourceName: 'k',
    });
    expect(seen).toHaveLength(1);
    expect(warnings).toMatchObject([{ sourceName: 'k', offset: a.length }]);
  });
});

describe('readFirehoseRecords: resources and failures', () => {
  it('holds at most about one chunk plus the record in progress, whatever the object size', () => {
    const scanner = new FirehoseScanner({ sourceName: 'x', maxRecordBytes: 1 << 20 });
    let count = 0;
    const sink: ScanSink = { record: () => count++, bad: () => {} };
    const rec = Buffer.from(JSON.stringify(ctr('r', { Attributes: { pad: 'p'.repeat(900) } })));
    const chunk = Buffer.concat(Array.from({ length: 64 }, () => rec));
    let maxPending = 0;
    for (let i = 0; i < 300; i++) {
      scanner.push(chunk.subarray(0, chunk.length - (i % 7)), sink);
      scanner.push(chunk.subarray(chunk.length - (i % 7)), sink);
      maxPending = Math.max(maxPending, scanner.pendingBytes);
    }
    scanner.end(sink);
    expect(count).toBe(300 * 64);
    expect(maxPending).toBeLessThan(chunk.length + rec.length);
  });

  it('throws InputFailedError with the offset when the source fails, after the records before it', async () => {
    const { ids, error } = await readUntilError(
      failingAfter([Buffer.from(JSON.stringify(ctr('a')))], 'connection reset'),
      { sourceName: 's3://b/k' },
    );
    expect(ids).toEqual(['a']);
    expect(error).toBeInstanceOf(InputFailedError);
    expect((error as InputFailedError).message).toContain('s3://b/k');
    expect((error as InputFailedError).message).toContain('connection reset');
    expect((error as InputFailedError).offset).toBeGreaterThan(0);
  });

  it('the same from a GZIP source that fails mid-way', async () => {
    const gz = gzipSync(Buffer.from(JSON.stringify(ctr('a')) + JSON.stringify(ctr('b'))));
    const { ids, error } = await readUntilError(failingAfter([gz], 'socket hang up'), {
      sourceName: 'k.gz',
    });
    expect(ids).toEqual(['a', 'b']);
    expect(error).toBeInstanceOf(InputFailedError);
    expect((error as InputFailedError).message).toContain('socket hang up');
  });

  it('reports a source failure inside a GZIP stream as InputFailedError, not as corrupt GZIP', async () => {
    const records = Array.from({ length: 400 }, (_, i) => JSON.stringify(ctr(`r${i}`))).join('');
    const gz = gzipSync(Buffer.from(records));
    const bad: string[] = [];
    const { ids, error } = await readUntilError(
      failingAfter([gz.subarray(0, Math.floor(gz.length / 2))], 'socket hang up'),
      { onBadRecord: (b) => bad.push(b.reason) },
    );
    expect(error).toBeInstanceOf(InputFailedError);
    expect(bad).not.toContain('corrupt-gzip');
    expect(ids.length).toBeLessThan(400);
  });

  it('closes the source when the consumer stops early', async () => {
    const { source, state } = trackedSource(1000);
    for await (const batch of readFirehoseBatches(source)) {
      expect(batch.length).toBeGreaterThan(0);
      break;
    }
    expect(state.closed).toBe(true);
    expect(state.pulled).toBeLessThan(10);
  });

  it('destroys a Readable source when the consumer stops early', async () => {
    const body = Readable.from(
      Array.from({ length: 1000 }, (_, i) => Buffer.from(JSON.stringify(ctr(`c${i}`)))),
    );
    for await (const batch of readFirehoseBatches(body)) {
      expect(batch.length).toBeGreaterThan(0);
      break;
    }
    expect(body.destroyed).toBe(true);
  });

  it('rejects invalid options, listing every problem', async () => {
    const iter = readFirehoseBatches([], { maxRecordBytes: -1, compression: 'zip' as 'gzip' });
    await expect(iter.next()).rejects.toThrow(InvalidOptionsError);
    await expect(
      readFirehoseBatches([], { maxRecordBytes: 0.5, bogus: 1 } as never).next(),
    ).rejects.toThrow(/maxRecordBytes.*bogus|bogus.*maxRecordBytes/);
  });
});
