import { describe, expect, it } from 'vitest';
import { JsonList, pieceOf } from '../../src/evaluation/rendered.js';

/**
 * The frontend API's and OFREP's entity tag is a digest of the pieces an answer is joined from, not
 * of its bytes: it must still change whenever the body does (a flag more or less, another variant,
 * the same flags in another order, another route's shape), and stay put while it does not.
 */
describe('JsonList', () => {
  const toggles = JsonList.of('{"toggles":[', ']}');
  const build = (pieces: string[], start = toggles) => {
    const list = start();
    for (const json of pieces) list.add(pieceOf(json));
    return list;
  };

  it('joins its pieces between head and tail, as the body the tag stands for', () => {
    expect(build(['{"name":"a"}', '{"name":"b"}']).json()).toBe('{"toggles":[{"name":"a"},{"name":"b"}]}');
    expect(build([]).json()).toBe('{"toggles":[]}');
    expect(build(['1']).etag()).toMatch(/^"[0-9a-f]{16}"$/);
  });

  it('gives one tag per body and another whenever the body differs', () => {
    const a = '{"name":"a"}';
    const b = '{"name":"b","variant":"x"}';
    const bOther = '{"name":"b","variant":"y"}';
    const tags = [[a, b], [b, a], [a], [b], [], [a, bOther], [a, b, a], [a, a, b]].map((pieces) => build(pieces).etag());
    expect(new Set(tags).size).toBe(tags.length);
    expect(build([a, b]).etag()).toBe(build([a, b]).etag());
    expect(build([a, b], JsonList.of('{"flags":[', ']}')).etag()).not.toBe(build([a, b]).etag());
  });

  it('has no two bodies sharing a tag over many answers drawn from a small set of pieces', () => {
    // 40 flags, each off or on in one of 3 variants: answers that share most of their pieces.
    const pieces = Array.from({ length: 40 }, (_, flag) => Array.from({ length: 3 }, (_, v) => `{"name":"f${flag}","variant":"v${v}"}`));
    let seed = 7;
    const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    const bodyByTag = new Map<string, string>();
    for (let n = 0; n < 50_000; n++) {
      const list = build(pieces.flatMap((variants) => (random() < 0.5 ? [variants[Math.floor(random() * 3)]!] : [])));
      const body = list.json();
      const seen = bodyByTag.get(list.etag());
      if (seen !== undefined) expect(seen).toBe(body);
      else bodyByTag.set(list.etag(), body);
    }
    expect(bodyByTag.size).toBeGreaterThan(49_000);
  });
});
