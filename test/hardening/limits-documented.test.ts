import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, configSchema, loadConfig } from '../../src/config/config.js';
import { BODY_LIMIT_VARIABLE, formatBytes } from '../../src/http/body-limits.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** The rows of the README's "Limits" table: [limit, default, variable, at the limit]. */
function limitsTable(): string[][] {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## Limits\n');
  expect(start, 'README: a "## Limits" section').toBeGreaterThan(-1);
  const section = readme.slice(start + 1, readme.indexOf('\n## ', start + 1));
  return section
    .split('\n')
    .filter((line) => line.startsWith('| ') && !line.startsWith('| limit |'))
    .map((line) =>
      line
        .split('|')
        .slice(1, -1)
        .map((cell) => cell.trim()),
    );
}

/**
 * Issue 13: every limit documented in one table in the README (name, default, environment
 * variable, what happens at the limit), with the defaults the code has.
 */
describe('the limits are documented in one table (issue 13: limits)', () => {
  const rows = limitsTable();
  const defaults = configSchema.parse({});
  const rowOf = (variable: string) => rows.find((row) => row[2] === `\`${variable}\``);

  it('has a row for each limit the configuration sets, with its default', () => {
    const asDocumented: Record<string, string> = {
      ...Object.fromEntries(Object.values(BODY_LIMIT_VARIABLE).map((v) => [v, formatBytes(defaults[v])])),
      HTTP_HEADERS_TIMEOUT_MS: `${defaults.HTTP_HEADERS_TIMEOUT_MS / 1000} s`,
      HTTP_REQUEST_TIMEOUT_MS: `${defaults.HTTP_REQUEST_TIMEOUT_MS / 1000} s`,
      STREAMS_PER_TOKEN: defaults.STREAMS_PER_TOKEN.toLocaleString('en'),
      STREAMS_PER_REPLICA: defaults.STREAMS_PER_REPLICA.toLocaleString('en'),
      CLIENT_APPS_PER_ENVIRONMENT: defaults.CLIENT_APPS_PER_ENVIRONMENT.toLocaleString('en'),
      EVALUATION_RATE_LIMIT: `${defaults.EVALUATION_RATE_LIMIT.toLocaleString('en')} a second`,
    };
    for (const [variable, value] of Object.entries(asDocumented)) {
      const row = rowOf(variable);
      expect(row, `README limits: a row for ${variable}`).toBeDefined();
      expect(row![1], variable).toContain(value);
    }
  });

  it('says what happens at every limit', () => {
    expect(rows.length).toBeGreaterThan(10);
    for (const row of rows) {
      expect(row, row[0]).toHaveLength(4);
      for (const cell of row) expect(cell, row[0]).not.toBe('');
    }
  });

  it('is linked from the runbook’s configuration table', () => {
    expect(readFileSync(path.join(ROOT, 'docs/operations.md'), 'utf8')).toContain('(../README.md#limits)');
  });
});

describe('limits in the configuration', () => {
  it('reads sizes in bytes or with a unit, and names a bad one', () => {
    expect(loadConfig({ BODY_LIMIT_CLIENT: '512kb', BODY_LIMIT_IMPORT: '1.5MB', BODY_LIMIT_ADMIN: '2097152' })).toMatchObject({
      BODY_LIMIT_CLIENT: 512 * 1024,
      BODY_LIMIT_IMPORT: 1.5 * 1024 * 1024,
      BODY_LIMIT_ADMIN: 2 * 1024 * 1024,
    });
    expect(() => loadConfig({ BODY_LIMIT_CLIENT: 'lots' })).toThrow(
      new ConfigError('invalid configuration: BODY_LIMIT_CLIENT: a size such as 262144, 256kb or 4mb'),
    );
    expect(() => loadConfig({ BODY_LIMIT_CLIENT: '100' })).toThrow(/BODY_LIMIT_CLIENT: at least 1kb/);
  });

  it('refuses a headers timeout longer than the request timeout, by name', () => {
    expect(() => loadConfig({ HTTP_HEADERS_TIMEOUT_MS: '20000', HTTP_REQUEST_TIMEOUT_MS: '10000' })).toThrow(
      /^invalid configuration: HTTP_HEADERS_TIMEOUT_MS: 20000 is longer than HTTP_REQUEST_TIMEOUT_MS \(10000\)$/,
    );
  });
});
