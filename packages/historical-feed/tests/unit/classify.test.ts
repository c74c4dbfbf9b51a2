import { classifyByKey, sniffObjectKind } from '../../src/index.js';

const prefixes = { ctrPrefix: 'ctr/', reportPrefix: 'reports/', quarantinePrefix: 'quarantine/' };

describe('classification', () => {
  it('uses the longest matching prefix', () => {
    expect(classifyByKey('ctr/2026/x', prefixes)).toBe('ctr');
    expect(classifyByKey('reports/a.csv', prefixes)).toBe('report');
    expect(classifyByKey('ctr/reports/a.csv', { ...prefixes, reportPrefix: 'ctr/reports/' })).toBe(
      'report',
    );
    expect(classifyByKey('other/a', prefixes)).toBeUndefined();
  });

  it('skips the quarantine output and instruction files', () => {
    expect(classifyByKey('quarantine/ctr/x.bad.jsonl', prefixes)).toBe('skip');
    expect(classifyByKey('ctr/x.instruction', prefixes)).toBe('skip');
  });

  it('sniffs JSON, GZIP and CSV headers', () => {
    expect(sniffObjectKind(Buffer.from('  \n{"ContactId":"1"}'))).toBe('ctr');
    expect(sniffObjectKind(Buffer.from([0x1f, 0x8b, 8, 0]))).toBe('ctr');
    expect(sniffObjectKind(Buffer.from('\uFEFFAgent,Interval,Online time\r\nx,y,z'))).toBe(
      'report',
    );
    expect(sniffObjectKind(Buffer.from('hello world'))).toBeUndefined();
    expect(sniffObjectKind(Buffer.alloc(0))).toBeUndefined();
  });
});
