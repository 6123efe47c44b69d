/**
 * Bottom-k samples, as the store keeps them (Store.addToSamples, mergeSamples, readSamples): a set
 * of members that keeps only its `keep` smallest, in text (code unit) order. Pure, shared by both
 * stores and by whoever fills a sample before sending it.
 *
 * Why this shape merges: the `keep` smallest members of a union are among the `keep` smallest of
 * each part (a member's rank in a part is at most its rank in the union). So a sample of the union
 * is the sample of the parts' samples, whatever was merged before, in whatever order, however often:
 * union and trimming are idempotent, so merging a part twice changes nothing.
 */

/** A sample keeps at least one member: anything else is a caller's mistake, named before any work. */
export function checkKeep(keep: number): void {
  if (!(Number.isInteger(keep) && keep > 0)) throw new RangeError(`keep must be a positive integer, got ${keep}`);
}

/** Members of every list, each once, in text order, the `keep` smallest (each list sorted or not). */
export function bottomOf(lists: ReadonlyArray<readonly string[]>, keep: number): string[] {
  checkKeep(keep);
  const all = new Set<string>();
  for (const list of lists) for (const member of list) all.add(member);
  const sorted = [...all].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return sorted.length > keep ? sorted.slice(0, keep) : sorted;
}
