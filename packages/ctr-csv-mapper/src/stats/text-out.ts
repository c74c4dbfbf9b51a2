/**
 * Helpers of the statistics CSV text: a Buffer-backed text builder and cached labels.
 */
import { isoSeconds } from './time.js';

/**
 * Text built in a Buffer, as UTF-8, and decoded once at the end. Appending tens of thousands of
 * rows to a string builds a rope of them that stays young until the end, and the garbage
 * collector copied it again at every collection: most of the time of a large `toCsv`.
 */
export class TextOut {
  private buf = Buffer.allocUnsafe(65536);
  private pos = 0;
  /** Rows not yet written: a short rope, copied into the Buffer about every 16 K characters. */
  private pending = '';

  add(s: string): void {
    this.pending += s;
    if (this.pending.length >= 16384) this.flush();
  }

  text(): string {
    this.flush();
    return this.buf.toString('utf8', 0, this.pos);
  }

  private flush(): void {
    const s = this.pending;
    this.pending = '';
    const need = this.pos + s.length * 3;
    if (need > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2));
      this.buf.copy(bigger, 0, 0, this.pos);
      this.buf = bigger;
    }
    this.pos += this.buf.write(s, this.pos);
  }
}

/** An integral number as an int32 (converted to text much faster than a double); others as is. */
export function int(x: number): number {
  return (x | 0) === x ? x | 0 : x;
}

/** Interval labels, computed once per distinct interval start. */
export class IntervalLabels {
  private ms = Number.NaN;
  private label = '';

  /** The label of `ms` (groups come sorted by interval, so the last one is usually it). */
  of(ms: number): string {
    if (ms !== this.ms) {
      this.ms = ms;
      this.label = isoSeconds(ms);
    }
    return this.label;
  }
}
