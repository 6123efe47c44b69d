import type { CounterFields } from './counters.js';
import { ttlArg } from './redis-encoding.js';

/**
 * How counters are kept in Redis hashes, and the arguments and replies of the scripts that add and
 * sum them (redis-scripts.ts).
 *
 * A number is kept as Redis keeps HINCRBYFLOAT counters: decimal text. A vector is one field of
 * packed little-endian elements after a one-byte tag naming their form, the narrowest that holds
 * every element: "h", 16-bit unsigned integers (the usual per-user counts of one time bucket); "u",
 * 32-bit unsigned integers; "f", 64-bit floats (larger, fractional or negative elements). Decimal
 * text never starts with these letters, so a field's first byte tells its kind. Vectors are added
 * by a script, which is atomic, so concurrent writers add up exactly, as with HINCRBYFLOAT.
 */

const U16 = 0x68; // "h"
const U32 = 0x75; // "u"
const F64 = 0x66; // "f"

/** A vector as stored: the narrowest form that holds every element. */
export function packVector(values: readonly number[]): Buffer {
  let largest = 0;
  let integers = true;
  for (const v of values) {
    if (!(Number.isInteger(v) && v >= 0)) integers = false;
    else if (v > largest) largest = v;
  }
  const tag = !integers || largest > 0xffff_ffff ? F64 : largest > 0xffff ? U32 : U16;
  const width = tag === U16 ? 2 : tag === U32 ? 4 : 8;
  const out = Buffer.allocUnsafe(1 + values.length * width);
  out[0] = tag;
  for (let k = 0, at = 1; k < values.length; k++, at += width) {
    if (tag === U16) out.writeUInt16LE(values[k]!, at);
    else if (tag === U32) out.writeUInt32LE(values[k]!, at);
    else out.writeDoubleLE(values[k]!, at);
  }
  return out;
}

function isVector(raw: Buffer): boolean {
  return raw.length > 0 && (raw[0] === U16 || raw[0] === U32 || raw[0] === F64);
}

/** Adds a stored vector into `target`, lengthening it as needed (one loop per form: this is the tick's hot path). */
function addPacked(target: number[], packed: Buffer): number[] {
  const view = new DataView(packed.buffer, packed.byteOffset, packed.byteLength);
  const tag = packed[0];
  const width = tag === U16 ? 2 : tag === U32 ? 4 : 8;
  const n = Math.floor((packed.length - 1) / width);
  while (target.length < n) target.push(0);
  if (tag === U16) for (let k = 0, at = 1; k < n; k++, at += 2) target[k]! += view.getUint16(at, true);
  else if (tag === U32) for (let k = 0, at = 1; k < n; k++, at += 4) target[k]! += view.getUint32(at, true);
  else for (let k = 0, at = 1; k < n; k++, at += 8) target[k]! += view.getFloat64(at, true);
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
