import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { escapePromString, promDuration, renderQuery, type QueryVars } from '../../src/metrics/prometheus/query-template.js';

const VARS: QueryVars = { flag: 'new-checkout', environment: 'production', cohort: 'treatment', windowMs: 300_000 };
const render = (template: string, vars: Partial<QueryVars> = {}) => renderQuery(template, { ...VARS, ...vars });

describe('PromQL templates', () => {
  it('fills flag, environment, cohort and window', () => {
    expect(render('sum(rate(http_errors_total{flag="{{flag}}", env="{{environment}}", cohort="{{ cohort }}"}[{{window}}]))')).toEqual({
      ok: true,
      query: 'sum(rate(http_errors_total{flag="new-checkout", env="production", cohort="treatment"}[5m]))',
    });
  });

  it.each([
    [300_000, '5m'],
    [90_000, '1m30s'],
    [500, '500ms'],
    [1.2, '2ms'],
    [90_061_001, '1d1h1m1s1ms'],
  ])('writes %d ms as the PromQL duration %s', (ms, duration) => {
    expect(promDuration(ms)).toBe(duration);
  });

  it.each([0, -1, Number.NaN, Infinity])('refuses a window of %d ms', (windowMs) => {
    expect(render('x[{{window}}]', { windowMs })).toMatchObject({ ok: false, reason: expect.stringContaining('window') });
  });

  it('escapes a value for the quote of the string it is in', () => {
    const flag = `it's "odd"\\ok`;
    expect(render('x{flag="{{flag}}"}', { flag })).toEqual({ ok: true, query: String.raw`x{flag="it's \"odd\"\\ok"}` });
    expect(render("x{flag='{{flag}}'}", { flag })).toEqual({ ok: true, query: String.raw`x{flag='it\'s "odd"\\ok'}` });
    expect(render('x{flag=`{{flag}}`}', { flag })).toEqual({ ok: true, query: 'x{flag=`it\'s "odd"\\ok`}' });
  });

  it('escapes control characters, which would end a PromQL string', () => {
    expect(escapePromString('a\nb\tc\rd\u0001e\u007f', '"')).toBe(String.raw`a\nb\tc\rd\x01e\x7f`);
  });

  it('quotes a value placed outside any string, so it cannot inject PromQL', () => {
    expect(render('x{flag={{flag}}}', { flag: '"} or vector(0) #' })).toEqual({ ok: true, query: String.raw`x{flag="\"} or vector(0) #"}` });
  });

  it('tracks strings through escaped quotes and other quote characters', () => {
    expect(render(String.raw`x{a="say \"hi\" {{flag}}", b='"', c="{{cohort}}"}`, { flag: 'f"' })).toEqual({
      ok: true,
      query: String.raw`x{a="say \"hi\" f\"", b='"', c="treatment"}`,
    });
  });

  it('refuses what it cannot render safely', () => {
    expect(render('x{flag=`{{flag}}`}', { flag: 'a`b' })).toMatchObject({ ok: false, reason: expect.stringContaining('backtick') });
    expect(render('x{team="{{team}}"}')).toMatchObject({ ok: false, reason: expect.stringContaining('unknown placeholder {{team}}') });
  });

  it('leaves braces that are not placeholders alone', () => {
    expect(render('sum by (flag) (x{flag="{{flag}}"})')).toEqual({
      ok: true,
      query: 'sum by (flag) (x{flag="new-checkout"})',
    });
  });
});

describe('PROMETHEUS_URL', () => {
  it('is optional and must be an http(s) URL when set', () => {
    expect(loadConfig({}).PROMETHEUS_URL).toBeUndefined();
    expect(loadConfig({ PROMETHEUS_URL: '' }).PROMETHEUS_URL).toBeUndefined();
    expect(loadConfig({ PROMETHEUS_URL: 'http://prometheus:9090' })).toMatchObject({ PROMETHEUS_URL: 'http://prometheus:9090', PROMETHEUS_TIMEOUT_MS: 5000 });
    expect(() => loadConfig({ PROMETHEUS_URL: 'prometheus:9090' })).toThrow('invalid configuration: PROMETHEUS_URL: an http:// or https:// URL');
    expect(() => loadConfig({ PROMETHEUS_TIMEOUT_MS: '10' })).toThrow('PROMETHEUS_TIMEOUT_MS');
  });
});
