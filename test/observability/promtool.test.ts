import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';

const ROOT = path.resolve(import.meta.dirname, '../..');
const ALERTS = path.join(ROOT, 'deploy/prometheus/alerts.yml');
const CONFIG = path.join(ROOT, 'deploy/prometheus/prometheus.yml');
const UNIT_TESTS = path.join(import.meta.dirname, 'alerts.promtool.yml');

interface Rule {
  alert?: string;
  expr: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** Runs promtool; a missing promtool fails with the command that installs it, never skips. */
function promtool(args: string[], cwd = ROOT): string {
  const run = spawnSync('promtool', args, { cwd, encoding: 'utf8', timeout: 60_000 });
  if (run.error) throw new Error(`promtool is not installed (${run.error.message}); run: bash scripts/ensure-tool.sh promtool prometheus`);
  const output = `${run.stdout}${run.stderr}`;
  if (run.status !== 0) throw new Error(`promtool ${args.join(' ')} failed:\n${output}`);
  return output;
}

export function alertRules(): Rule[] {
  const doc = parse(readFileSync(ALERTS, 'utf8')) as { groups: Array<{ rules: Rule[] }> };
  return doc.groups.flatMap((g) => g.rules);
}

describe('Prometheus files in deploy/prometheus', () => {
  it('alert rules pass promtool check rules', () => {
    expect(promtool(['check', 'rules', ALERTS])).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('the scrape configuration passes promtool check config, rule file included', () => {
    expect(promtool(['check', 'config', CONFIG])).toContain('SUCCESS: 1 rule files found');
  });

  it('every alert has a severity an operator can route on and says what it means and what to do', () => {
    const rules = alertRules();
    expect(rules.length).toBeGreaterThanOrEqual(10);
    for (const rule of rules) {
      expect(rule.alert, rule.expr).toMatch(/^Rollout[A-Za-z]+$/);
      expect(['critical', 'warning', 'info'], rule.alert).toContain(rule.labels?.severity);
      for (const key of ['summary', 'description', 'runbook']) expect(rule.annotations?.[key]?.length ?? 0, `${rule.alert}: ${key}`).toBeGreaterThan(20);
    }
  });

  it('alerts fire on the series they are meant for and stay quiet otherwise (promtool test rules)', () => {
    // promtool compares annotations word for word; the unit tests check expressions, durations and labels.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'rc-alerts-'));
    const doc = parse(readFileSync(ALERTS, 'utf8')) as { groups: Array<{ rules: Rule[] }> };
    for (const group of doc.groups) for (const rule of group.rules) delete rule.annotations;
    writeFileSync(path.join(dir, 'alerts.yml'), stringify(doc));
    copyFileSync(UNIT_TESTS, path.join(dir, 'alerts.test.yml'));
    expect(promtool(['test', 'rules', 'alerts.test.yml'], dir)).toContain('SUCCESS');
    // Every alert has at least one case that expects it to fire.
    const tests = parse(readFileSync(UNIT_TESTS, 'utf8')) as { tests: Array<{ alert_rule_test: Array<{ alertname: string; exp_alerts: unknown[] }> }> };
    const fired = new Set(tests.tests.flatMap((t) => t.alert_rule_test.filter((a) => a.exp_alerts.length > 0).map((a) => a.alertname)));
    const untested = alertRules().map((r) => r.alert!).filter((name) => !fired.has(name));
    expect(untested, 'alerts without a case where they fire').toEqual([]);
  });
});
