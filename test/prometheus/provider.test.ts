import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PrometheusProvider, prometheusProviderFromConfig, type QueryVars } from '../../src/metrics/prometheus/index.js';

/**
 * The provider against a tiny local HTTP fake that answers what a test tells it to: shows what is
 * sent (form body, time, timeout, basic auth) and how every kind of answer is read.
 */

const VARS: QueryVars = { flag: 'checkout', environment: 'production', cohort: 'treatment', windowMs: 60_000 };
const AT = new Date('2026-03-01T10:00:00.250Z');
const TEMPLATE = 'sum(rate(errors_total{flag="{{flag}}",cohort="{{cohort}}"}[{{window}}]))';

interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
  form: URLSearchParams;
}

describe('Prometheus provider (HTTP fake)', () => {
  let server: http.Server;
  let base: string;
  let seen: Seen[] = [];
  /** What the fake answers next: a status and a body, or 'hang' to never answer. */
  let answer: { status: number; body: unknown } | 'hang' = { status: 200, body: {} };
  const hanging = new Set<http.ServerResponse>();

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        seen.push({ method: req.method!, url: req.url!, authorization: req.headers.authorization, form: new URLSearchParams(body) });
        if (answer === 'hang') return void hanging.add(res);
        res.writeHead(answer.status, { 'Content-Type': 'application/json' });
        res.end(typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const res of hanging) res.destroy();
    server.closeAllConnections(); // fetch keeps idle connections open for seconds
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    seen = [];
  });

  const vector = (...values: string[]) => ({
    status: 200,
    body: { status: 'success', data: { resultType: 'vector', result: values.map((v, i) => ({ metric: { i: String(i) }, value: [AT.getTime() / 1000, v] })) } },
  });
  const ask = async (reply: typeof answer, provider = new PrometheusProvider({ url: base })) => {
    answer = reply;
    return provider.query(TEMPLATE, VARS, AT);
  };

  it('posts the rendered query with its time and timeout, and reads one series', async () => {
    const provider = new PrometheusProvider({ url: `${base}/prom/`, timeoutMs: 1500 });
    expect(await ask(vector('0.0125'), provider)).toEqual({ kind: 'value', value: 0.0125, series: 1 });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/prom/api/v1/query', authorization: undefined });
    expect(Object.fromEntries(seen[0]!.form)).toEqual({
      query: 'sum(rate(errors_total{flag="checkout",cohort="treatment"}[1m]))',
      time: '1772359200.250',
      timeout: '1500ms',
    });
  });

  it('sends credentials in the URL as basic auth, not in the URL', async () => {
    const provider = new PrometheusProvider({ url: base.replace('http://', 'http://reader:s%40cret@') });
    expect(await ask(vector('1'), provider)).toMatchObject({ kind: 'value', value: 1 });
    expect(seen[0]!.authorization).toBe(`Basic ${Buffer.from('reader:s@cret').toString('base64')}`);
  });

  it('reads a scalar', async () => {
    const scalar = { status: 200, body: { status: 'success', data: { resultType: 'scalar', result: [1, '42'] } } };
    expect(await ask(scalar)).toEqual({ kind: 'value', value: 42, series: 0 });
  });

  it.each([
    ['an empty result', vector(), 'no data'],
    ['several series', vector('0.1', '0.2'), 'returned 2 series; aggregate'],
    ['NaN', vector('NaN'), 'gave NaN'],
    ['+Inf', vector('+Inf'), 'gave +Inf'],
    ['-Inf', vector('-Inf'), 'gave -Inf'],
    ['a range vector', { status: 200, body: { status: 'success', data: { resultType: 'matrix', result: [] } } }, 'range vector'],
    ['a string', { status: 200, body: { status: 'success', data: { resultType: 'string', result: [1, 'x'] } } }, 'a string'],
    [
      'a refused query',
      { status: 400, body: { status: 'error', errorType: 'bad_data', error: 'parse error: unexpected "}"' } },
      '(400 bad_data): parse error: unexpected "}"',
    ],
    ['an execution error', { status: 422, body: { status: 'error', errorType: 'execution', error: 'many-to-many matching not allowed' } }, '422 execution'],
    ['a proxy error page', { status: 502, body: '<html>Bad Gateway</html>' }, 'answered 502 with a body that is not JSON'],
    ['success JSON with an error status', { status: 503, body: vector('1').body }, 'answered 503'],
    ['an unexpected shape', { status: 200, body: { status: 'success', data: { resultType: 'vector', result: [{ value: 'x' }] } } }, 'unexpected body'],
  ])('is inconclusive on %s', async (_, reply, reason) => {
    const result = await ask(reply);
    expect(result).toEqual({ kind: 'inconclusive', reason: expect.stringContaining(reason) });
  });

  it('is inconclusive, without sending anything, when the template cannot be rendered', async () => {
    expect(await new PrometheusProvider({ url: base }).query('x{team="{{team}}"}', VARS, AT)).toMatchObject({ kind: 'inconclusive' });
    expect(await new PrometheusProvider({ url: base }).query(TEMPLATE, VARS, new Date(Number.NaN))).toMatchObject({ kind: 'inconclusive' });
    expect(seen).toHaveLength(0);
  });

  it('is inconclusive when Prometheus does not answer in time', async () => {
    const result = await ask('hang', new PrometheusProvider({ url: base, timeoutMs: 150 }));
    expect(result).toEqual({ kind: 'inconclusive', reason: 'Prometheus did not answer within 150 ms' });
  });

  it('is inconclusive when the caller cancels', async () => {
    answer = 'hang';
    const controller = new AbortController();
    const pending = new PrometheusProvider({ url: base, timeoutMs: 10_000 }).query(TEMPLATE, VARS, AT, { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    expect(await pending).toEqual({ kind: 'inconclusive', reason: 'the query was cancelled' });
  });

  it('is inconclusive when Prometheus cannot be reached', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const result = await new PrometheusProvider({ url: `http://127.0.0.1:${port}` }).query(TEMPLATE, VARS, AT);
    expect(result).toEqual({ kind: 'inconclusive', reason: expect.stringMatching(/^Prometheus could not be reached: .*ECONNREFUSED/) });
  });

  it('without PROMETHEUS_URL, answers inconclusive and says why', async () => {
    expect(await prometheusProviderFromConfig({}).query(TEMPLATE, VARS, AT)).toEqual({
      kind: 'inconclusive',
      reason: expect.stringContaining('PROMETHEUS_URL is not set'),
    });
    answer = vector('0.5');
    expect(await prometheusProviderFromConfig({ PROMETHEUS_URL: base, PROMETHEUS_TIMEOUT_MS: 1000 }).query(TEMPLATE, VARS, AT)).toMatchObject({ value: 0.5 });
  });
});
