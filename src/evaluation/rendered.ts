import { createHash } from 'node:crypto';
import type { Evaluation } from './evaluation.js';

/**
 * Answers of the frontend API and OFREP are lists of pieces, one per flag: the JSON of one
 * evaluation. The compiled evaluator hands out the same frozen object for the same answer of the
 * same flag (compiled/outcomes.ts), so each distinct piece is serialised, and digested, once: its
 * JSON and digest are kept beside it (weakly: they go when the engine is dropped on the next
 * change), and a response is assembled by joining pieces. Evaluations that are not frozen (the
 * stock engine's, made afresh for each call) are serialised every time.
 */
export interface Piece {
  readonly json: string;
  /** 64 bits of the SHA-1 of `json`, as two unsigned 32-bit halves. */
  readonly high: number;
  readonly low: number;
}

/** A piece of JSON text with its digest. */
export function pieceOf(json: string): Piece {
  const digest = createHash('sha1').update(json).digest();
  return { json, high: digest.readUInt32BE(0), low: digest.readUInt32BE(4) };
}

export function renderedOnce(render: (evaluation: Evaluation) => unknown): (evaluation: Evaluation) => Piece {
  const pieces = new WeakMap<Evaluation, Piece>();
  return (evaluation) => {
    let piece = pieces.get(evaluation);
    if (piece === undefined) {
      piece = pieceOf(JSON.stringify(render(evaluation)));
      if (Object.isFrozen(evaluation)) pieces.set(evaluation, piece);
    }
    return piece;
  };
}

/**
 * `${head}${pieces joined by commas}${tail}` and its entity tag. The tag is a 64-bit digest of the
 * sequence of the pieces' digests and the head (two 32-bit lanes, each mixed in order, so the same
 * pieces in another order or another list give another tag): the body is fully determined by them,
 * so the tag is as strong a validator as a hash of the bytes, at a few multiplications a piece
 * instead of hashing some kilobytes per request. Two different bodies share a tag only by a 64-bit
 * collision, whose worst effect is one 304 where a 200 was due.
 */
export class JsonList {
  private readonly parts: string[] = [];

  private constructor(
    private readonly head: string,
    private readonly tail: string,
    private a: number,
    private b: number,
  ) {}

  /** Starts lists of one shape (the head's digest is taken here, once). */
  static of(head: string, tail: string): () => JsonList {
    const seed = pieceOf(head + tail);
    return () => new JsonList(head, tail, seed.high, seed.low);
  }

  add(piece: Piece): void {
    this.parts.push(piece.json);
    this.a = mixLane(this.a, piece.high);
    this.b = mixLane(this.b, piece.low);
  }

  json(): string {
    return `${this.head}${this.parts.join(',')}${this.tail}`;
  }

  /** The strong ETag (quoted): both lanes, finished with the count of pieces. */
  etag(): string {
    const n = this.parts.length;
    return `"${hex8(finish(this.a ^ n))}${hex8(finish(this.b ^ Math.imul(n, 0x9e3779b1)))}"`;
  }
}

// MurmurHash3's block mixing and finaliser (public-domain constants): each step is a bijection of
// the lane, so different sequences of 32-bit words spread evenly over the 2^32 lane values.
function mixLane(lane: number, word: number): number {
  let k = Math.imul(word, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  let h = lane ^ k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function finish(lane: number): number {
  let h = lane ^ (lane >>> 16);
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function hex8(value: number): string {
  return value.toString(16).padStart(8, '0');
}
