/**
 * The k smallest distinct user hashes seen, kept while they arrive (the bottom-k sample of
 * user-sample.ts). The frontend API offers each request's user to one sample per flag, hundreds a
 * request, so the work is kept to numbers in flat arrays: the 48-bit hash as a double (exact), a
 * max-heap of the kept ones, so a hash above the largest kept (most of them, once the sample is
 * full) costs one comparison, and an open-addressing set of the kept ones for repeats. Hashes come
 * and go as 12 lowercase hex digits, whose text order is their number order.
 */

const INITIAL_CAPACITY = 16;

/** Users kept per cohort, per report and per stored sample: k of the bottom-k sample. */
export const USER_SAMPLE_SIZE = 1024;

/** A set of non-negative integers below 2^48 in a Float64Array, linear probing, at most half full. */
class HashSet {
  private table = new Float64Array(INITIAL_CAPACITY * 2);
  private mask = this.table.length - 1;

  /** Slots hold value + 1, so that 0 marks an empty one. */
  private home(stored: number): number {
    // ToUint32 keeps the low 32 bits: the hash's, uniform.
    return (stored >>> 0) & this.mask;
  }

  has(value: number): boolean {
    const stored = value + 1;
    const table = this.table;
    for (let i = this.home(stored); ; i = (i + 1) & this.mask) {
      const slot = table[i]!;
      if (slot === stored) return true;
      if (slot === 0) return false;
    }
  }

  add(value: number): void {
    const stored = value + 1;
    let i = this.home(stored);
    while (this.table[i] !== 0) i = (i + 1) & this.mask;
    this.table[i] = stored;
  }

  /** Removes a value that is present, shifting later entries of its run back (no tombstones). */
  delete(value: number): void {
    const stored = value + 1;
    const table = this.table;
    const mask = this.mask;
    let hole = this.home(stored);
    while (table[hole] !== stored) hole = (hole + 1) & mask;
    for (let j = (hole + 1) & mask; table[j] !== 0; j = (j + 1) & mask) {
      // An entry may move back into the hole unless its home lies after the hole (cyclically) and at or before j.
      if (((j - this.home(table[j]!)) & mask) >= ((j - hole) & mask)) {
        table[hole] = table[j]!;
        hole = j;
      }
    }
    table[hole] = 0;
  }

  /** Room for `capacity` values at most half full. */
  reserve(capacity: number, values: ArrayLike<number>, count: number): void {
    if (capacity * 2 <= this.table.length) return;
    let size = this.table.length;
    while (size < capacity * 2) size *= 2;
    this.table = new Float64Array(size);
    this.mask = size - 1;
    for (let i = 0; i < count; i++) this.add(values[i]!);
  }
}

export class BottomK {
  private heap = new Float64Array(INITIAL_CAPACITY);
  private count = 0;
  private readonly kept = new HashSet();
  /** The largest kept once full (else Infinity): held here, beside the count, so most offers touch nothing else. */
  private limit = Number.POSITIVE_INFINITY;

  constructor(private readonly k = USER_SAMPLE_SIZE) {
    if (!(Number.isInteger(k) && k > 0)) throw new RangeError(`k must be a positive integer, got ${k}`);
  }

  get size(): number {
    return this.count;
  }

  /** Offers at or above this are not kept: the largest kept once full, else Infinity. */
  get threshold(): number {
    return this.limit;
  }

  /** Offers a hash (12 hex digits); true when it is now kept (and was not before). */
  add(hash: string): boolean {
    return this.addValue(hashValue(hash));
  }

  /** The same for a hash already read as a number (hashValue). */
  addValue(value: number): boolean {
    if (value >= this.limit || this.kept.has(value)) return false;
    if (this.count === this.k) {
      this.kept.delete(this.heap[0]!);
      this.kept.add(value);
      this.siftDown(value);
    } else {
      if (this.count === this.heap.length) this.grow();
      this.kept.add(value);
      this.siftUp(this.count++, value);
    }
    if (this.count === this.k) this.limit = this.heap[0]!;
    return true;
  }

  has(hash: string): boolean {
    return this.hasValue(hashValue(hash));
  }

  hasValue(value: number): boolean {
    return this.kept.has(value);
  }

  /** The kept hashes, smallest first. */
  values(): string[] {
    return Array.from(this.heap.subarray(0, this.count))
      .sort((a, b) => a - b)
      .map(hashText);
  }

  private grow(): void {
    const heap = new Float64Array(Math.min(this.k, this.heap.length * 2));
    heap.set(this.heap);
    this.heap = heap;
    this.kept.reserve(heap.length, heap, this.count);
  }

  /** Puts `value` at `i` and moves it up past smaller parents (the largest stays on top). */
  private siftUp(i: number, value: number): void {
    const heap = this.heap;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]! >= value) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = value;
  }

  /** Replaces the top with `value` and moves it down past larger children. */
  private siftDown(value: number): void {
    const heap = this.heap;
    const n = this.count;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const child = left + 1 < n && heap[left + 1]! > heap[left]! ? left + 1 : left;
      if (heap[child]! <= value) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = value;
  }
}

/** A hash (12 hex digits) as a number: exact, since 48 bits fit a double's 53. */
export function hashValue(hash: string): number {
  return Number.parseInt(hash, 16);
}

/** A hash value as its 12 lowercase hex digits. */
export function hashText(value: number): string {
  // 2^48 + value has 13 hex digits, the first a 1: the rest is the value, zero-padded.
  return (HASH_SPACE + value).toString(16).slice(1);
}

const HASH_SPACE = 2 ** 48;
