import { Writable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/config.js';
import { createLogger } from '../../src/logger.js';
import { startTestController, type TestController } from '../support/controller.js';
import { rawExchange, requestHead } from './raw-http.js';

const KB = 1024;
const MB = 1024 * KB;
const json = { 'Content-Type': 'application/json' };

/**
 * Issue 13, defect 2: bodies were read before the token was checked. A JSON parser ahead of the
 * router took up to 10 MB from anyone, so 50 connections without a token held 465 MB for the
 * whole 300 s request timeout. Now the token (and role) is checked first, a body is read only for
 * a caller allowed to send it and only within its route family's limit, and the server's
 * timeouts are far shorter than Node's.
 */
describe('bodies are read only after authentication (issue 13: body before auth)', () => {
  let t: TestController;
  let client: string;
  let viewer: string;
  const logLines: Array<{ msg: string; limit?: string; client?: string }> = [];

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk, _encoding, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) logLines.push(JSON.parse(line));
        done();
      },
    });
    t = await startTestController({
      logger: createLogger('warn', sink),
      env: { HTTP_HEADERS_TIMEOUT_MS: '1000', HTTP_REQUEST_TIMEOUT_MS: '1500' },
    });
    client = await t.token({ kind: 'client', environment: 'production' });
    viewer = await t.token({ kind: 'admin', role: 'viewer' });
  });
  afterAll(() => t.stop());

  it('answers 401 to an unfinished body without a token at once, and closes the connection within a second instead of reading on', async () => {
    const head = requestHead('POST', '/api/client/metrics', { ...json, 'Content-Length': 9 * MB });
    const res = await rawExchange(t.url, head, Buffer.alloc(256 * KB, 0x20));
    expect(res.status).toBe(401);
    expect(res.ms).toBeLessThan(1_000);
    expect(res.closedByServer).toBe(true);
    // The rest is read and dropped for UNREAD_BODY_LINGER_MS (1 s), so the client can read the answer, then the connection ends.
    expect(res.closedMs).toBeLessThan(2_500);
  });

  it('answers 403 to a token of the wrong role before reading its body', async () => {
    const head = requestHead('PUT', '/api/admin/flags/x', { ...json, Authorization: viewer, 'Content-Length': 5 * MB });
    const res = await rawExchange(t.url, head, Buffer.alloc(64 * KB, 0x20));
    expect(res.status).toBe(403);
    expect(res.closedByServer).toBe(true);
  });

  it('refuses a Content-Length over the route family’s limit with 413 before reading a byte', async () => {
    // The client API takes 256 kB; the old app-wide limit was 10 MB.
    const head = requestHead('POST', '/api/client/register', { ...json, Authorization: client, 'Content-Length': 300 * KB });
    const res = await rawExchange(t.url, head);
    expect(res.status).toBe(413);
    expect(res.text).toContain('BODY_LIMIT_CLIENT');
    expect(res.closedByServer).toBe(true);
  });

  it('refuses a chunked body with 413 as soon as it passes the limit, without waiting for its end', async () => {
    const head = requestHead('POST', '/api/client/metrics', { ...json, Authorization: client, 'Transfer-Encoding': 'chunked' });
    const size = 300 * KB;
    // One chunk of 300 kB, and no last chunk: the body never ends.
    const res = await rawExchange(t.url, head, Buffer.concat([Buffer.from(`${size.toString(16)}\r\n`), Buffer.alloc(size, 0x20), Buffer.from('\r\n')]));
    expect(res.status).toBe(413);
    expect(res.closedByServer).toBe(true);
  });

  it('counts the decoded bytes of a compressed body: a small gzip cannot unpack past the limit', async () => {
    const post = (body: Buffer) =>
      fetch(`${t.url}/api/client/register`, {
        method: 'POST',
        headers: { ...json, 'Content-Encoding': 'gzip', Authorization: client },
        body: new Uint8Array(body),
      });
    expect((await post(gzipSync(JSON.stringify({ appName: 'zipped' })))).status).toBe(202);
    // 2 MB of JSON (the client API takes 256 kB) that packs into a few kilobytes.
    const bomb = gzipSync(`{"appName":"a","pad":"${' '.repeat(2 * MB)}"}`);
    expect(bomb.length).toBeLessThan(16 * KB);
    const res = await post(bomb);
    expect(res.status).toBe(413);
    expect((await res.json()).error).toBe('body_too_large');
    expect((await post(Buffer.from('not gzip at all'))).status).toBe(400);
  });

  it('gives each route family its own limit', async () => {
    const filler = (bytes: number) => ({ description: 'x'.repeat(bytes) });
    // Admin writes: 1 MB.
    expect((await t.api('PUT', '/api/admin/flags/big', filler(1.2 * MB))).status).toBe(413);
    // Imports: 16 MB (an Unleash payload of many flags; this one is 1.4 MB).
    const features = Array.from({ length: 2_500 }, (_, i) => ({ name: `imported-${i}`, enabled: false, strategies: [], description: 'y'.repeat(500) }));
    const imported = await t.api('POST', '/api/admin/environments/production/import', { features });
    expect(imported.status).toBe(200);
    expect(imported.body.imported).toBe(2_500);
    // Evaluation (frontend API, OFREP): 64 kB.
    const frontend = await t.token({ kind: 'frontend', environment: 'production' });
    expect((await t.api('POST', '/api/frontend', { context: { userId: 'u'.repeat(70 * KB) } }, frontend)).status).toBe(413);
  });

  it('logs a client reaching a limit once, not once per request', async () => {
    for (let i = 0; i < 5; i++) expect((await t.api('PUT', '/api/admin/flags/big', { description: 'x'.repeat(1.2 * MB) })).status).toBe(413);
    // Six refusals of the same token within the window (one in the test above): one line.
    const lines = logLines.filter((l) => l.limit === 'BODY_LIMIT_ADMIN');
    expect(lines).toHaveLength(1);
    expect(lines[0]!.msg).toMatch(/^limit reached: the body is larger than 1 MB/);
    expect(lines[0]!.client).toMatch(/^token /);
    expect(JSON.stringify(logLines)).not.toContain(t.adminToken);
  });

  it('ends a request whose headers or body do not arrive in time (HTTP_*_TIMEOUT_MS)', async () => {
    const slowHeaders = await rawExchange(t.url, 'GET /healthz HTTP/1.1\r\nHost: test\r\n', '', 5_000);
    expect(slowHeaders.status).toBe(408);
    expect(slowHeaders.ms).toBeLessThan(3_000);
    const head = requestHead('POST', '/api/client/metrics', { ...json, Authorization: client, 'Content-Length': 100 * KB });
    const slowBody = await rawExchange(t.url, head, '{"appName":', 5_000);
    expect(slowBody.closedByServer).toBe(true);
    expect(slowBody.ms).toBeLessThan(3_500);
    // Both from this test's address within a minute: logged once.
    expect(logLines.filter((l) => l.limit === 'HTTP_REQUEST_TIMEOUT_MS')).toHaveLength(1);
  });

  it('does not cut a stream at the request timeout: its request ended with its headers', async () => {
    const res = await fetch(`${t.url}/api/client/streaming`, { headers: { Authorization: client } });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    const readUntil = async (marker: string) => {
      while (!text.includes(marker)) {
        const { done, value } = await reader.read();
        if (done) return false;
        text += decoder.decode(value, { stream: true });
      }
      return true;
    };
    expect(await readUntil('event: unleash-connected')).toBe(true);
    await new Promise((r) => setTimeout(r, 2_500)); // past HTTP_REQUEST_TIMEOUT_MS (1.5 s) and the check after it
    expect((await t.api('PUT', '/api/admin/flags/after-timeout', { environments: { production: { enabled: true } } })).status).toBe(201);
    expect(await readUntil('"name":"after-timeout"')).toBe(true);
    await reader.cancel();
  });

  it('has timeouts shorter than Node’s 300 s by default', () => {
    const defaults = configSchema.parse({});
    expect(defaults.HTTP_REQUEST_TIMEOUT_MS).toBeLessThan(300_000);
    expect(defaults.HTTP_HEADERS_TIMEOUT_MS).toBeLessThan(defaults.HTTP_REQUEST_TIMEOUT_MS);
  });
});
