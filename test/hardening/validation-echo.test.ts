import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkJsonShape } from '../../src/validation/json-shape.js';
import { startTestController, type TestController } from '../support/controller.js';

/**
 * Issue 13, defect 1: a validation error echoed every problem. A body of a million wrong values
 * made a million issues (seconds of work and gigabytes), and keys and names from the input were
 * quoted whole. Now a body is held to a budget of values before validation, at most 20 problems
 * are listed, and each path and message is bounded whatever the input.
 */
describe('validation errors are bounded (issue 13: validation echo)', () => {
  let t: TestController;
  let client: string;

  beforeAll(async () => {
    t = await startTestController();
    client = await t.token({ kind: 'client', environment: 'production' });
  });
  afterAll(() => t.stop());

  const sizeOf = (body: unknown) => JSON.stringify(body).length;

  it('refuses a body of more values than its limit allows before validating one of them', async () => {
    // 120,000 wrong entries in 240 kB: within the client API's 256 kB, far past its 32,768 values.
    const strategies = new Array(120_000).fill(1);
    const started = performance.now();
    const res = await t.api('POST', '/api/client/register', { appName: 'a', strategies }, client);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(res.status).toBe(413);
    expect(res.body.error).toBe('body_too_large');
    expect(res.body.message).toContain('32768 JSON values');
    expect(res.body.message).toContain('BODY_LIMIT_CLIENT');
    expect(sizeOf(res.body)).toBeLessThan(500);
  });

  it('refuses a list longer than its schema allows with one problem, not one per entry', async () => {
    const res = await t.api('POST', '/api/client/register', { appName: 'a', strategies: new Array(5_000).fill(1) }, client);
    expect(res.status).toBe(400);
    expect(res.body.details.issues).toEqual([{ path: 'strategies', message: expect.stringContaining('100') }]);
    expect(res.body.details.unlisted).toBeUndefined();
  });

  it('lists at most 20 problems and counts the rest', async () => {
    const toggles = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`flag-${i}`, { yes: -1 }]));
    const res = await t.api('POST', '/api/client/metrics', { appName: 'a', bucket: { toggles } }, client);
    expect(res.status).toBe(400);
    expect(res.body.details.issues).toHaveLength(20);
    expect(res.body.details.unlisted).toBe(10);
    expect(res.body.message).toBe(`invalid body: bucket.toggles.flag-0.yes: ${res.body.details.issues[0].message} (and 29 more problems)`);
  });

  it('cuts keys from the input short in paths, and keeps the whole answer small', async () => {
    // 30 keys of 5,000 characters, each with a wrong count: the path of each problem quotes its key.
    const toggles = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`${i}-${'k'.repeat(5_000)}`, { yes: 'many' }]));
    const res = await t.api('POST', '/api/client/metrics', { appName: 'a', bucket: { toggles } }, client);
    expect(res.status).toBe(400);
    for (const issue of res.body.details.issues) {
      expect(issue.path.length).toBeLessThanOrEqual(300);
      expect(issue.path).toContain('…');
    }
    expect(sizeOf(res.body)).toBeLessThan(16_000);
  });

  it('cuts messages that quote a value short', async () => {
    // Names that break the naming rule are still checked for duplicates, and the duplicate's message quotes the name.
    const name = 'n'.repeat(20_000);
    const res = await t.api('POST', '/api/admin/environments/production/import', { features: [{ name }, { name }] });
    expect(res.status).toBe(400);
    expect(res.body.details.issues.length).toBeGreaterThan(0);
    for (const issue of res.body.details.issues) expect(issue.message.length).toBeLessThanOrEqual(300);
    expect(sizeOf(res.body)).toBeLessThan(16_000);
  });

  it('refuses a body nested deeper than 64 levels with 400 naming where, not a stack overflow', async () => {
    // Written out by hand: JSON.stringify itself would overflow the stack on it.
    const deep = `${'['.repeat(10_000)}1${']'.repeat(10_000)}`;
    const res = await fetch(`${t.url}/api/admin/restore`, {
      method: 'POST',
      headers: { Authorization: t.adminToken, 'Content-Type': 'application/json' },
      body: `{"format":1,"deep":${deep}}`,
    });
    const body = await res.json();
    expect(res.status).toBe(400);
    expect(body.error).toBe('body_too_deep');
    expect(body.message).toMatch(/^invalid body: deep(\[0\])+…?: nested deeper than 64 levels$/);
    expect(sizeOf(body)).toBeLessThan(1_000);
  });
});

describe('the budget of values and depth a body is held to before validation', () => {
  const limits = { maxValues: 10, maxDepth: 3 };

  it('counts array entries and object members, nested ones included', () => {
    expect(checkJsonShape({ a: [1, 2, 3], b: { c: 1, d: [4, 5] } }, limits)).toBeUndefined(); // 2 + 3 + 2 + 2 = 9
    expect(checkJsonShape({ a: [1, 2, 3], b: { c: 1, d: [4, 5, 6, 7] } }, limits)).toEqual({ kind: 'values', count: 11 });
    expect(checkJsonShape('a string', limits)).toBeUndefined();
  });

  it('allows maxDepth levels of containers and names the path of the first one deeper', () => {
    expect(checkJsonShape({ a: { b: [1] } }, limits)).toBeUndefined();
    expect(checkJsonShape({ a: { b: [{ c: 1 }] } }, limits)).toEqual({ kind: 'depth', path: 'a.b[0]' });
  });

  it('refuses a list of a million before walking it', () => {
    const started = performance.now();
    expect(checkJsonShape({ list: new Array(1_000_000).fill([1]) }, limits)).toEqual({ kind: 'values', count: 1_000_001 });
    expect(performance.now() - started).toBeLessThan(50);
  });
});
