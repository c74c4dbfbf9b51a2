import type { ClassifyOptions, ObjectKind } from './types.js';

/**
 * How an object is classified (docs/operations/historical-feed.md#classification): the longest
 * configured prefix that matches the key wins; without a match, the first bytes decide when
 * sniffing is on (GZIP magic or `{` = CTR object, a CSV header line = report).
 */

/**
 * Classifies an object by its key alone. `'skip'` is the feed's own output (quarantine prefix)
 * and S3 Encryption Client instruction files; `undefined` means the content must decide.
 *
 * @example
 * classifyByKey('ctr/2026/11/24/08/x', { ctrPrefix: 'ctr/', reportPrefix: 'reports/', quarantinePrefix: 'quarantine/' }); // 'ctr'
 */
export function classifyByKey(
  key: string,
  options: ClassifyOptions,
): ObjectKind | 'skip' | undefined {
  if (options.quarantinePrefix !== '' && key.startsWith(options.quarantinePrefix)) return 'skip';
  if (key.endsWith('.instruction')) return 'skip';
  const candidates: Array<[string, ObjectKind]> = [
    [options.ctrPrefix, 'ctr'],
    [options.reportPrefix, 'report'],
  ];
  let best: ObjectKind | undefined;
  let bestLength = -1;
  for (const [prefix, kind] of candidates) {
    if (prefix !== '' && key.startsWith(prefix) && prefix.length > bestLength) {
      best = kind;
      bestLength = prefix.length;
    }
  }
  return best;
}

/**
 * Classifies an object by its first bytes (after decryption, before decompression).
 *
 * @example
 * sniffObjectKind(Buffer.from('{"ContactId":"1"}')); // 'ctr'
 * sniffObjectKind(Buffer.from('Agent,Interval,Online time\n')); // 'report'
 */
export function sniffObjectKind(head: Uint8Array): ObjectKind | undefined {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'ctr';
  let i = 0;
  // Skip a UTF-8 BOM and whitespace.
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) i = 3;
  while (
    i < head.length &&
    (head[i] === 0x20 || head[i] === 0x0a || head[i] === 0x0d || head[i] === 0x09)
  )
    i++;
  if (i >= head.length) return undefined;
  if (head[i] === 0x7b) return 'ctr';
  const text = Buffer.from(head.subarray(i)).toString('utf8');
  const firstLine = text.split(/\r?\n/, 1)[0] ?? '';
  // A CSV header: several comma-separated fields, one naming the agent.
  if (firstLine.includes(',') && /agent/i.test(firstLine)) return 'report';
  return undefined;
}
