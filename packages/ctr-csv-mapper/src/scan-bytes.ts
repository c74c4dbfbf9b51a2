import { isUtf8 } from 'node:buffer';

/**
 * The bytes the record splitter looks at, and small helpers over a buffer of them
 * (docs/historical-formats.md#recovery).
 */

export const OPEN = 0x7b; // {
export const CLOSE = 0x7d; // }
export const QUOTE = 0x22; // "
export const BSLASH = 0x5c; // \
export const COLON = 0x3a; // :
export const COMMA = 0x2c; // ,
export const LBRACK = 0x5b; // [
export const LF = 0x0a;

/** 1 for the four JSON whitespace bytes. */
export const WS = new Uint8Array(256);
WS[0x20] = 1;
WS[0x09] = 1;
WS[0x0a] = 1;
WS[0x0d] = 1;

export const EMPTY = Buffer.alloc(0);
/** Where two concatenated records meet. */
export const CAT = Buffer.from('}{');
/** A `\u` escape: a record holding one cannot be parsed as latin1 bytes. */
export const ESC_U = Buffer.from('\\u');

/** `end` moved back over whitespace, not before `start`. */
export function trimEnd(buf: Buffer, start: number, end: number): number {
  let e = end;
  while (e > start && WS[buf[e - 1] as number] === 1) e--;
  return e;
}

/**
 * Extends a known-valid UTF-8 prefix `buf[0, validTo)` over the bytes after it, up to the last
 * complete character, in one native call. Returns the new end of the valid prefix: `validTo`
 * unchanged when the new bytes are not valid (the records after it are then checked one by one).
 */
export function extendValidUtf8(buf: Buffer, validTo: number): number {
  let end = buf.length;
  // Step back over an incomplete trailing character (at most 3 bytes).
  let k = end - 1;
  const stop = Math.max(0, end - 4);
  while (k > stop && ((buf[k] as number) & 0xc0) === 0x80) k--;
  const lead = buf[k] as number;
  const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  if (k + need > end) end = k;
  return end > validTo && isUtf8(buf.subarray(validTo, end)) ? end : validTo;
}
