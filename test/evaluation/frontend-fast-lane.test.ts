import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EvaluationController, startWithFixture } from './support.js';

/**
 * GET /api/frontend is answered by a fast lane outside express (src/frontend/frontend-fast-lane.ts)
 * when the request is the plain case, and by the express route otherwise. The lane's answer is the
 * route's, byte for byte and header for header; what it does not take, express answers as before.
 * The express route also serves /api/frontend/ (a trailing slash), which the lane does not take:
 * that is how these tests reach both. Only express sets X-Request-Id, which tells them apart.
 */

let c: EvaluationController;
let limited: EvaluationController;

beforeAll(async () => {
  [c, limited] = await Promise.all([startWithFixture(), startWithFixture({ EVALUATION_RATE_LIMIT: '1' })]);
});
afterAll(async () => {
  await Promise.all([c?.t.stop(), limited?.t.stop()]);
});

// Every field a flag of the fixture sticks to is set (a missing one would make its variant a random draw).
const QUERY = 'userId=u1&sessionId=s1&appName=web&properties%5Bplan%5D=pro&properties[country]=NO&tenant=acme&email=admin%40example.com';

async function get(t: EvaluationController['t'], path: string, secret: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${t.url}${path}`, { headers: { Authorization: secret, ...headers } });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

describe('the frontend API fast lane', () => {
  it('answers the plain case itself, exactly as the express route does', async () => {
    const lane = await get(c.t, `/api/frontend?${QUERY}`, c.frontendSecret);
    const route = await get(c.t, `/api/frontend/?${QUERY}`, c.frontendSecret);
    expect(lane.status).toBe(200);
    expect(lane.headers.get('x-request-id')).toBeNull();
    expect(route.headers.get('x-request-id')).not.toBeNull();
    expect(lane.text).toBe(route.text);
    for (const header of ['etag', 'content-type', 'content-length', 'cache-control', 'access-control-allow-origin', 'access-control-expose-headers'])
      expect(lane.headers.get(header), header).toBe(route.headers.get(header));
    expect(JSON.parse(lane.text).toggles.length).toBeGreaterThan(0);
    // Without a query string too (an empty context: answers with random stickiness may differ, so only the form is compared).
    const bare = await get(c.t, '/api/frontend', c.frontendSecret);
    expect([bare.status, bare.headers.get('x-request-id'), Array.isArray(JSON.parse(bare.text).toggles)]).toEqual([200, null, true]);
    // If-None-Match gets 304 from the lane as from the route.

    const again = await get(c.t, `/api/frontend?${QUERY}`, c.frontendSecret, { 'If-None-Match': lane.headers.get('etag')! });
    expect(again.status).toBe(304);
    expect(again.headers.get('x-request-id')).toBeNull();
  });

  it('leaves everything else to express: wrong tokens, malformed contexts, repeated fields', async () => {
    const none = await get(c.t, `/api/frontend?${QUERY}`, '');
    expect([none.status, none.headers.get('x-request-id') !== null]).toEqual([401, true]);
    const client = await get(c.t, `/api/frontend?${QUERY}`, c.clientSecret);
    expect([client.status, JSON.parse(client.text).error]).toEqual([403, 'forbidden']);
    const malformed = await get(c.t, '/api/frontend?userId=a&userId=b', c.frontendSecret);
    expect(malformed.status).toBe(400);
    expect(malformed.text).toMatch(/userId/);
    expect(malformed.headers.get('x-request-id')).not.toBeNull();
    const nested = await get(c.t, '/api/frontend?properties[a][b]=1', c.frontendSecret);
    expect(nested.status).toBe(400);
  });

  it('over the rate, express answers 429 with Retry-After, and the refusals the lane passed on cost the token nothing more', async () => {
    // EVALUATION_RATE_LIMIT=1: a burst of 2, then one a second.
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await get(limited.t, `/api/frontend?${QUERY}`, limited.frontendSecret)).status);
    expect(statuses).toEqual([200, 200, 429, 429]);
    const refused = await get(limited.t, `/api/frontend?${QUERY}`, limited.frontendSecret);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(refused.headers.get('access-control-allow-origin')).toBe('*');
    // A second later the bucket has one token again: refused requests did not push the wait further.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect((await get(limited.t, `/api/frontend?${QUERY}`, limited.frontendSecret)).status).toBe(200);
  });
});
