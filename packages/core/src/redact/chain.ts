/**
 * The first error of a chain has depth 0, its cause depth 1, and so on. Links deeper than this are
 * not examined: a chain that goes on beyond it (for example a cycle through other objects) is cut
 * there.
 */
export const MAX_CAUSE_DEPTH = 32;

/** How one kind of chain is walked and copied. */
export interface ChainRules<T extends object> {
  /** True for a value that is a link of the chain. */
  isLink(value: unknown): value is T;
  /** The cause to follow, or undefined when there is none to follow. */
  causeOf(node: T): { value: unknown } | undefined;
  /** True when the node itself (not its cause) must be replaced by a copy. */
  isDirty(node: T): boolean;
  /** The end of the chain (not a link) cleaned, or the same value when it needs no cleaning. */
  cleanTail(value: unknown): unknown;
  /** A clean copy of `node` without a cause to follow (an accessor `cause` may be kept). */
  copy(node: T): T;
  /** Gives the copy of `original` the cause `value`. */
  link(copy: T, original: T, value: unknown): void;
}

/**
 * Returns `head` when no link of its cause chain (nor the value it ends with) needs cleaning;
 * otherwise copies of the links down to the last one that needs it, pointing at the original
 * links below. A cycle back into the copied part points at the copies; a chain longer than
 * {@link MAX_CAUSE_DEPTH} is cut after that depth.
 */
export function rebuildChain<T extends object>(head: T, rules: ChainRules<T>): T {
  const chain: T[] = [];
  let next: { value: unknown } | undefined = { value: head };
  while (
    next !== undefined &&
    rules.isLink(next.value) &&
    chain.length <= MAX_CAUSE_DEPTH &&
    !chain.includes(next.value)
  ) {
    chain.push(next.value);
    next = rules.causeOf(next.value);
  }
  const tail = next?.value;
  const endsInLink = next !== undefined && rules.isLink(tail);
  const loopsTo = endsInLink ? chain.indexOf(tail as T) : -1;
  const cut = endsInLink && loopsTo === -1;
  const cleanTail = next !== undefined && !endsInLink ? rules.cleanTail(tail) : tail;

  let last = -1;
  chain.forEach((node, i) => {
    if (rules.isDirty(node)) last = i;
  });
  if (cut || cleanTail !== tail || (loopsTo !== -1 && loopsTo <= last)) last = chain.length - 1;
  if (last === -1) return head;

  const copies = chain.slice(0, last + 1).map((node) => rules.copy(node));
  copies.forEach((copy, i) => {
    const original = chain[i] as T;
    if (i < last) rules.link(copy, original, copies[i + 1]);
    else if (last < chain.length - 1) rules.link(copy, original, chain[last + 1]);
    else if (loopsTo !== -1) rules.link(copy, original, copies[loopsTo]);
    else if (next !== undefined && !cut) rules.link(copy, original, cleanTail);
  });
  return copies[0] as T;
}
