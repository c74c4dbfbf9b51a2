/**
 * The `ctr-csv` progress line on standard error (only on a terminal, for large inputs).
 */
import { statSync } from 'node:fs';
import type { ReadProgress } from '../types.js';

/** Input size from which progress is shown (on a terminal). */
const LARGE_INPUT_BYTES = 16 * 1024 * 1024;

/** Progress on stderr, only when it is a terminal and the input is large or several files. */
export class Progress {
  private enabled: boolean;
  /** Standard input is read and its size is unknown: progress starts once it proves large. */
  private readonly watchStdin: boolean;
  private readonly started = Date.now();
  private lastDraw = 0;
  private file = 0;
  private doneBytes = 0;
  private doneRecords = 0;
  private current: ReadProgress | undefined;
  private drawn = false;

  constructor(private readonly inputs: readonly string[]) {
    let total = 0;
    for (const f of inputs) {
      if (f === '-') continue;
      try {
        total += statSync(f).size;
      } catch {
        // reported when the file is opened
      }
    }
    const tty = process.stderr.isTTY === true;
    this.enabled = tty && (inputs.length > 1 || total > LARGE_INPUT_BYTES);
    this.watchStdin = tty && !this.enabled && inputs.includes('-');
  }

  /** Good records read so far, over all inputs. */
  get records(): number {
    return this.doneRecords + (this.current?.records ?? 0);
  }

  startFile(index: number): void {
    if (this.current !== undefined) {
      this.doneBytes += this.current.rawBytes;
      this.doneRecords += this.current.records;
      this.current = undefined;
    }
    this.file = index;
  }

  update = (p: ReadProgress): void => {
    this.current = p;
    if (!this.enabled) {
      if (!this.watchStdin || this.doneBytes + p.rawBytes <= LARGE_INPUT_BYTES) return;
      this.enabled = true;
    }
    const now = Date.now();
    if (now - this.lastDraw < 200) return;
    this.lastDraw = now;
    const secs = Math.max(0.001, (now - this.started) / 1000);
    const mb = (this.doneBytes + p.rawBytes) / 1e6;
    const records = this.doneRecords + p.records;
    process.stderr.write(
      `\rctr-csv: file ${this.file + 1}/${this.inputs.length}, ${mb.toFixed(1)} MB, ${Math.round(records / secs)} records/s   `,
    );
    this.drawn = true;
  };

  finish(): void {
    if (this.drawn) process.stderr.write('\r\x1b[K');
  }
}
