import { describe, expect, it } from 'vitest';
import { assertJsonDepth, MAX_JSON_DEPTH, tooDeepAt } from '../../src/validation/json-depth.js';

describe('JSON nesting depth, checked on the text before parsing', () => {
  const nested = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;

  it('finds the first bracket past the limit, in text and in bytes', () => {
    expect(tooDeepAt(nested(3), 3)).toBe(-1);
    expect(tooDeepAt(nested(4), 3)).toBe(3);
    expect(tooDeepAt(Buffer.from(`{"a":${nested(4)}}`), 3)).toBe(7);
    expect(tooDeepAt(nested(100_000))).toBe(MAX_JSON_DEPTH);
  });

  it('ignores brackets inside strings, escaped quotes included, and multi-byte characters', () => {
    const text = JSON.stringify({ s: `[[[{{{ "\\" ü ${'['.repeat(100)}`, n: [[1]] });
    expect(tooDeepAt(text, 3)).toBe(-1);
    expect(tooDeepAt(Buffer.from(text), 3)).toBe(-1);
    expect(tooDeepAt(Buffer.from(text), 2)).toBeGreaterThan(0);
  });

  it('refuses with a clear 400 naming the limit and where', () => {
    expect(() => assertJsonDepth(nested(10_000))).toThrow(
      expect.objectContaining({
        kind: 'invalid',
        errorId: 'json_too_deep',
        message: `the body nests deeper than ${MAX_JSON_DEPTH} levels (at byte ${MAX_JSON_DEPTH})`,
      }),
    );
    expect(() => assertJsonDepth(nested(MAX_JSON_DEPTH))).not.toThrow();
  });
});
