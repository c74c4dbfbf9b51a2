import { gzipSync } from 'node:zlib';
import {
  DEFAULT_MAX_BAD_BYTES,
  type FirehoseBadItem,
  type FirehoseItem,
  type FirehoseRecordItem,
  firehoseObjectToCsv,
  InvalidOptionsError,
} from '@connect-wfm/ctr-csv-mapper';
import { FirehoseScanner, type ScanSink } from '../../src/scanner.js';
import { chunked, collectBytes, ctr, readAll } from './helpers.js';

function bads(items: FirehoseItem[]): FirehoseBadItem[] {
  return items.filter((i): i is FirehoseBadItem => i.kind === 'bad');
}

function ids(items: FirehoseItem[]): string[] {
  return items
    .filter((i): i is FirehoseRecordItem => i.kind === 'record')
    .map((r) => r.record.ContactId);
}

/** Scans `input` in 64 KiB chunks; returns the scanner's work count and what it found. */
function scanWork(input: Buffer): { work: number; records: number; bad: FirehoseBadItem[] } {
  const scanner = new FirehoseScanner({ sourceName: 'x', maxRecordBytes: 2 * 1024 * 1024 });
  let records = 0;
  const bad: FirehoseBadItem[] = [];
  const sink: ScanSink = { record: () => records++, bad: (b) => bad.push(b) };
  for (const chunk of chunked(input, 65536)) scanner.push(chunk, sink);
  scanner.end(sink);
  return { work: scanner.workBytes, records, bad };
}

const good = JSON.stringify(ctr('after'));

describe('recovery after a malformed record is linear in the input (issue 19, defect 2)', () => {
  it('scans unclosed nesting ({"a":{"a":... without closing braces) a bounded number of times per byte', () => {
    const nest = (bytes: number): Buffer => Buffer.from('{"a":'.repeat(Math.ceil(bytes / 5)));
    const small = scanWork(nest(100_000));
    const large = scanWork(nest(400_000));
    // Quadratic recovery rescanned from every `{`: 4x the input cost 16x the work.
    expect(large.work / small.work).toBeLessThan(5);
    expect(large.work).toBeLessThan(4 * 400_000);
    expect(large.bad).toHaveLength(1);
    expect(large.bad[0]).toMatchObject({ offset: 0, length: 400_000, reason: 'truncated' });
  });

  it('stays linear when the nesting is followed by good records, and still finds them', () => {
    const input = (bytes: number): Buffer =>
      Buffer.from(`${'{"a":'.repeat(bytes / 5)}${good}\n${good}`);
    const small = scanWork(input(100_000));
    const large = scanWork(input(400_000));
    expect(large.work / small.work).toBeLessThan(5);
    // In the open record's view the first good record nests, then the second breaks it.
    expect(large.records).toBe(2);
    expect(large.bad).toHaveLength(1);
  });

  it('stays linear on nesting closed but invalid inside, and on nesting with a `{` in each string', () => {
    const closedInvalid = (d: number): Buffer =>
      Buffer.from(`${'{"a":'.repeat(d)}x${'}'.repeat(d)}${good}`);
    const inStrings = (d: number): Buffer => Buffer.from(`${'{"a":"{","b":'.repeat(d)}${good}`);
    for (const make of [closedInvalid, inStrings]) {
      const small = scanWork(make(20_000));
      const large = scanWork(make(80_000));
      expect(large.work / small.work).toBeLessThan(5);
      expect(large.records).toBe(1);
    }
  });

  it('recovers a record that exceeds maxRecordBytes by continuing the scan, not rescanning', () => {
    const scanner = new FirehoseScanner({ sourceName: 'x', maxRecordBytes: 4096 });
    let records = 0;
    const bad: FirehoseBadItem[] = [];
    const sink: ScanSink = { record: () => records++, bad: (b) => bad.push(b) };
    const input = Buffer.from(`${'{"a":'.repeat(40_000)}`);
    for (const chunk of chunked(input, 1024)) scanner.push(chunk, sink);
    scanner.push(Buffer.from(`\n${good}`), sink);
    scanner.end(sink);
    expect(scanner.workBytes).toBeLessThan(3 * input.length);
    expect(bad.map((b) => b.reason)).toEqual(['too-large']);
    // The good record nests in the open one; the input then ends and it is found as a closed object.
    expect(records).toBe(1);
  });
});

describe('bad items carry their offsets and bounded bytes for quarantine', () => {
  const a = JSON.stringify(ctr('a'));
  const b = JSON.stringify(ctr('b'));

  it('gives start and end offsets and the exact bad bytes of each bad record', async () => {
    const truncated = '{"ContactId":"t","Queue":{"Name":"q';
    const text = `${a}${truncated}${b}{"Channel":"VOICE"}`;
    const items = await readAll(chunked(Buffer.from(text), 7), { sourceName: 'k' });
    expect(ids(items)).toEqual(['a', 'b']);
    const [first, second] = bads(items);
    expect(first).toMatchObject({ offset: a.length, end: a.length + truncated.length });
    expect(first?.bytes.toString()).toBe(truncated);
    expect(first?.truncated).toBe(false);
    expect(second?.bytes.toString()).toBe('{"Channel":"VOICE"}');
    expect(second?.end).toBe(Buffer.byteLength(text));
  });

  it('offsets are in the decompressed stream for a GZIP object', async () => {
    const text = `${a}garbage${b}`;
    const items = await readAll([gzipSync(Buffer.from(text))]);
    expect(bads(items)).toMatchObject([{ offset: a.length, end: a.length + 7 }]);
    expect(bads(items)[0]?.bytes.toString()).toBe('garbage');
  });

  it('keeps at most maxBadBytes of a long bad region and says it is truncated', async () => {
    const garbage = 'x'.repeat(100_000);
    const items = await readAll(chunked(Buffer.from(a + garbage + b), 4096), {
      maxBadBytes: 1000,
    });
    const [bad] = bads(items);
    expect(bad?.length).toBe(100_000);
    expect(bad?.bytes.length).toBe(1000);
    expect(bad?.truncated).toBe(true);
    expect(bad?.preview).toBe('x'.repeat(200));
    expect(ids(items)).toEqual(['a', 'b']);
  });

  it('carries up to 1 MiB by default, none with maxBadBytes 0', async () => {
    expect(DEFAULT_MAX_BAD_BYTES).toBe(1024 * 1024);
    const garbage = Buffer.alloc(3 * 1024 * 1024, 'z');
    const input = Buffer.concat([Buffer.from(a), garbage, Buffer.from(b)]);
    const [bad] = bads(await readAll(chunked(input, 65536)));
    expect(bad?.bytes.length).toBe(1024 * 1024);
    expect(bad?.truncated).toBe(true);
    const [none] = bads(await readAll([Buffer.from(`${a}zz${b}`)], { maxBadBytes: 0 }));
    expect(none?.bytes.length).toBe(0);
    expect(none?.truncated).toBe(true);
    expect(none?.preview).toBe('zz');
  });

  it('passes the bytes to onBadRecord on the fused CSV path too', async () => {
    const seen: FirehoseBadItem[] = [];
    await collectBytes(
      firehoseObjectToCsv([Buffer.from(`${a}{oops}${b}`)], { onBadRecord: (x) => seen.push(x) }),
    );
    expect(seen.map((x) => [x.offset, x.end, x.bytes.toString()])).toEqual([
      [a.length, a.length + 6, '{oops}'],
    ]);
  });

  it('rejects a negative maxBadBytes', async () => {
    await expect(readAll([Buffer.from(a)], { maxBadBytes: -1 })).rejects.toThrow(
      InvalidOptionsError,
    );
  });
});
