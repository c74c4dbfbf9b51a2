/** The simulation's agenda: scheduled actions in (time, insertion) order. */

interface Scheduled {
  readonly at: number;
  readonly seq: number;
  readonly run: () => void;
}

/** A binary min-heap of scheduled actions ordered by (time, insertion). */
export class Agenda {
  private readonly heap: Scheduled[] = [];
  private seq = 0;

  push(at: number, run: () => void): void {
    const item = { at, seq: this.seq++, run };
    const h = this.heap;
    h.push(item);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p] as Scheduled;
      if (less(parent, item)) break;
      h[i] = parent;
      i = p;
    }
    h[i] = item;
  }

  peek(): Scheduled | undefined {
    return this.heap[0];
  }

  pop(): Scheduled | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (top === undefined || last === undefined || h.length === 0) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const lc = h[l] as Scheduled;
      const rc = h[r];
      const c = rc !== undefined && less(rc, lc) ? r : l;
      const child = h[c] as Scheduled;
      if (less(last, child)) break;
      h[i] = child;
      i = c;
    }
    h[i] = last;
    return top;
  }
}

function less(a: Scheduled, b: Scheduled): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
