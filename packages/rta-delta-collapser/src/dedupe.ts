/**
 * The last `capacity` event ids, in a ring: O(1) per id, bounded memory. When the ring is full
 * the oldest id is forgotten, so a duplicate arriving after `capacity` newer events is no longer
 * recognised by id (ordering by position still keeps it from overwriting a newer state).
 */
export class RecentIds {
  private readonly ids = new Set<string>();
  private readonly ring: (string | undefined)[];
  private next = 0;

  constructor(readonly capacity: number) {
    this.ring = new Array<string | undefined>(capacity);
  }

  /** Records `id`; returns `false` if it was already among the recent ids. */
  add(id: string): boolean {
    if (this.capacity === 0) return true;
    if (this.ids.has(id)) return false;
    const evicted = this.ring[this.next];
    if (evicted !== undefined) this.ids.delete(evicted);
    this.ring[this.next] = id;
    this.ids.add(id);
    this.next = this.next + 1 === this.capacity ? 0 : this.next + 1;
    return true;
  }

  get size(): number {
    return this.ids.size;
  }

  clear(): void {
    this.ids.clear();
    this.ring.fill(undefined);
    this.next = 0;
  }
}
