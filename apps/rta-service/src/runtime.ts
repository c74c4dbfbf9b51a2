/**
 * V8 heap tuning applied by the daemon itself, so that the bin, the image, the systemd unit and
 * the tests run with the same memory behaviour (DESIGN.md#memory).
 */
import { setFlagsFromString } from 'node:v8';

/** What {@link applyHeapGrowth} did. */
export type HeapGrowth =
  | { readonly applied: 'setting'; readonly percent: number }
  | { readonly applied: 'node-flag' }
  | { readonly applied: 'v8-default' };

const FLAG = '--heap-growing-percent';

/**
 * Makes V8 grow the old generation by `percent` % over the live size after each full collection
 * (`--heap-growing-percent`), instead of its own factor (1.1 to 4×, larger when collecting is
 * fast). The daemon's garbage (read batches, snapshot bodies) then stays near its live memory.
 *
 * `0` leaves V8's own heuristics. A `--heap-growing-percent` given to node (`execArgv`) wins.
 * The flag can only be given on node's command line (NODE_OPTIONS refuses it), so the daemon
 * sets it at start, before it reads anything; V8 reads it at every collection.
 *
 * @example
 * applyHeapGrowth(config.heapGrowingPercent); // { applied: 'setting', percent: 20 }
 */
export function applyHeapGrowth(
  percent: number,
  execArgv: readonly string[] = process.execArgv,
): HeapGrowth {
  if (execArgv.some((a) => a === FLAG || a.startsWith(`${FLAG}=`))) return { applied: 'node-flag' };
  if (percent === 0) return { applied: 'v8-default' };
  setFlagsFromString(`${FLAG}=${percent}`);
  return { applied: 'setting', percent };
}
