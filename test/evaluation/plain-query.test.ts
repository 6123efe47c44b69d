import express from 'express';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { realisticContexts } from '../../bench/evaluation-requests.js';
import { contextSchema, plainStringsContext, toUnleashContext } from '../../src/evaluation/context.js';
import { parsePlainQuery } from '../../src/frontend/plain-query.js';

/**
 * The fast lane reads a plain frontend API query string itself; for every query it accepts, the
 * answer must be exactly what express's own parser ("extended": qs) gives, and it must accept the
 * queries browsers send.
 */

const app = express();
app.set('query parser', 'extended');
const expressParse = app.get('query parser fn') as (query: string) => unknown;

const names = fc.oneof(
  fc.constantFrom('userId', 'sessionId', 'appName', 'remoteAddress', 'environment', 'currentTime', 'plan', 'a.b', 'x y', 'pl%61n', 'n+1'),
  fc.constantFrom('properties', '__proto__', 'constructor', 'toString', '', 'x]', '[x', 'a[b]', '%5Bx%5D', '%255B', '?userId'),
  fc.string({ maxLength: 6 }),
);
const propertyKeys = fc.oneof(
  names.map((n) => `properties[${n}]`),
  names.map((n) => `properties%5B${n}%5D`),
  names.map((n) => `properties%5b${n}%5d`),
  fc.constantFrom(
    'properties[0]',
    'properties[12]',
    'properties[01]',
    'properties[]',
    'properties[a][b]',
    'properties[a]b',
    'properties[__proto__]',
    'properties%255Bplan%255D',
  ),
);
const values = fc.oneof(
  fc.constantFrom('', 'pro', 'a+b', 'a%20b', '%E2%9C%93', '%zz', '%', 'x=y', 'a]=b', '[x]', '%5Bx%5D', 'user%40example.com', '1.2.3'),
  fc.string({ maxLength: 8 }),
  fc.string({ unit: 'grapheme', maxLength: 4 }).map(encodeURIComponent),
);
const pair = fc.oneof(
  fc.tuple(fc.oneof(names, propertyKeys), values).map(([k, v]) => `${k}=${v}`),
  fc.oneof(names, propertyKeys), // a name without "="
);
const query = fc.array(pair, { maxLength: 12 }).map((pairs) => pairs.join('&'));

describe('the plain query string', () => {
  it('is exactly what express parses, whenever it is read at all', () => {
    let read = 0;
    fc.assert(
      fc.property(query, (q) => {
        const plain = parsePlainQuery(q);
        if (plain === undefined) return;
        read++;
        expect(plain).toEqual(expressParse(q));
      }),
      { numRuns: 20_000 },
    );
    expect(read).toBeGreaterThan(1_000);
  });

  it('reads what browsers send (URLSearchParams, properties[name]=value), and leaves lists and nesting to express', () => {
    for (const context of realisticContexts(200)) {
      const { properties, ...fields } = context;
      const params = new URLSearchParams({ ...fields, userId: 'u 1+' });
      for (const [name, value] of Object.entries(properties)) params.append(`properties[${name}]`, value);
      const q = params.toString();
      expect(parsePlainQuery(q)).toEqual(expressParse(q));
    }
    expect(parsePlainQuery('')).toEqual({});
    for (const q of [
      'userId=a&userId=b',
      'properties[a][b]=1',
      'properties[0]=x',
      'properties=x&properties[a]=1',
      '__proto__=x',
      'a&&b',
      `${'a=1&'.repeat(100)}b=2`,
    ])
      expect(parsePlainQuery(q), q).toBeUndefined();
  });

  it('becomes the context the schema gives, directly, or else is left to the schema', () => {
    // Values and names around the schema's bounds, and queries with many fields.
    const long = fc.oneof(fc.constantFrom(999, 1_000, 1_001), fc.constant(5)).map((n) => 'v'.repeat(n));
    const longName = fc.constantFrom(199, 200, 201).map((n) => `properties[${'p'.repeat(n)}]`);
    const bounded = fc.oneof(
      query,
      fc
        .array(fc.tuple(fc.oneof(names, propertyKeys, longName), fc.oneof(values, long)), { maxLength: 12 })
        .map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join('&')),
      fc.integer({ min: 95, max: 105 }).map((n) => Array.from({ length: n }, (_, i) => (i % 2 ? `f${i}=x` : `properties[p${i}]=y`)).join('&')),
    );
    let direct = 0;
    let refused = 0;
    fc.assert(
      fc.property(bounded, (q) => {
        const plain = parsePlainQuery(q);
        if (plain === undefined) return;
        const viaSchema = contextSchema.safeParse(plain);
        const context = plainStringsContext(plain);
        if (context === undefined) {
          if (!viaSchema.success) refused++;
          return;
        }
        direct++;
        expect(viaSchema.success, q).toBe(true);
        expect(context).toEqual(toUnleashContext(viaSchema.data!));
      }),
      { numRuns: 20_000 },
    );
    expect(direct).toBeGreaterThan(1_000);
    expect(refused).toBeGreaterThan(100);
    // What browsers send is read directly.
    for (const context of realisticContexts(50)) {
      const { properties, ...fields } = context;
      const params = new URLSearchParams({ ...fields, userId: 'u1' });
      for (const [name, value] of Object.entries(properties)) params.append(`properties[${name}]`, value);
      expect(plainStringsContext(parsePlainQuery(params.toString())!)).toBeDefined();
    }
  });
});
