import type { CounterFields } from './counters.js';
import { ttlArg } from './redis-encoding.js';

/**
 * How counters are kept in Redis hashes, and the arguments and replies of the scripts that add and
 * sum them (redis-scripts.ts).
 *
 * A number is kept as Redis keeps HINCRBYFLOAT counters: decimal text. A vector is one field of
 * packed little-endian elements after a one-byte tag: "u" and 32-bit unsigned integers, the usual case
 * (counts), or "f" and 64-bit floats once an element is not such an integer (larger, fractional or
 * negative). Decimal text never starts with either letter, so a field's first byte tells its kind.
 * Vectors are added by a script, which is atomic, so concurrent writers add up exactly, as with
 * HINCRBYFLOAT.
 */

const U32 = 0x75; // "u"
const F64 = 0x66; // "f"
const U32_LIMIT = 2 ** 32;

/** A vector as stored: the narrow form when every element fits it, else 64-bit floats. */
export function packVector(values: readonly number[]): Buffer {
  const narrow = values.every((v) => Number.isInteger(v) && v >= 0 && v < U32_LIMIT);
  const width = narrow ? 4 : 8;
  const out = Buffer.allocUnsafe(1 + values.length * width);
  out[0] = narrow ? U32 : F64;
  for (let k = 0, at = 1; k < values.length; k++, at += width) {
    if (narrow) out.writeUInt32LE(values[k]!, at);
    else out.writeDoubleLE(values[k]!, at);
  }
  return out;
}

function isVector(raw: Buffer): boolean {
  return raw.length > 0 && (raw[0] === U32 || raw[0] === F64);
}

/** Adds a stored vector into `target`, lengthening it as needed. */
function addPacked(target: number[], packed: Buffer): number[] {
  const view = new DataView(packed.buffer, packed.byteOffset, packed.byteLength);
  const narrow = packed[0] === U32;
  const width = narrow ? 4 : 8;
  const n = Math.floor((packed.length - 1) / width);
  const shared = Math.min(n, target.length);
  let at = 1;
  for (let k = 0; k < shared; k++, at += width) target[k]! += narrow ? view.getUint32(at, true) : view.getFloat64(at, true);
  for (let k = shared; k < n; k++, at += width) target.push(narrow ? view.getUint32(at, true) : view.getFloat64(at, true));
  return target;
}

/** The arguments of rcIncrementCounters after the key: TTL, how many numbers, then the numbers' and the vectors' field/increment pairs. */
export function incrementArgs(fields: CounterFields, ttlSeconds: number): Array<string | number | Buffer> {
  const numbers: Array<string | number> = [];
  const vectors: Array<string | Buffer> = [];
  for (const field in fields) {
    const value = fields[field]!;
    if (typeof value === 'number') numbers.push(field, value);
    else vectors.push(field, packVector(value));
  }
  return [ttlArg(ttlSeconds), numbers.length / 2, ...numbers, ...vectors];
}

/** A hash read with HGETALL (as Buffers), vectors unpacked. */
export function decodeCounterHash(raw: Record<string, Buffer>): CounterFields {
  const out: CounterFields = {};
  for (const field in raw) {
    const value = raw[field]!;
    out[field] = isVector(value) ? addPacked([], value) : Number(value.toString());
  }
  return out;
}

/**
 * The reply of rcSumCounters: first JSON, per group, of field → sum (a number, or a string where a
 * number would lose digits) or, for a vector field, the places in the reply of its stored values,
 * which are added up here. Redis returns the stored vectors rather than adding them itself: element
 * by element in Lua costs Redis far more than the bytes cost to send, and Node adds them cheaply.
 */
export function decodeSums(reply: Buffer[]): CounterFields[] {
  const groups = JSON.parse(reply[0]!.toString()) as Array<Record<string, number | string | number[]>>;
  for (const sums of groups) {
    for (const field in sums) {
      const value = sums[field]!;
      if (typeof value === 'string') sums[field] = Number(value);
      else if (typeof value === 'object') {
        const sum: number[] = [];
        for (const place of value) addPacked(sum, reply[place]!);
        sums[field] = sum;
      }
    }
  }
  return groups as CounterFields[];
}
