import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ALERTS, promtool, readAlerts, SCRAPE_CONFIG } from './deploy-files.js';

const UNIT_TESTS = path.join(import.meta.dirname, 'alerts.promtool.yml');

describe('Prometheus files in deploy/prometheus', () => {
  it('alert rules pass promtool check rules', () => {
    expect(promtool(['check', 'rules', ALERTS])).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('the scrape configuration passes promtool check config, rule file included', () => {
    expect(promtool(['check', 'config', SCRAPE_CONFIG])).toContain('SUCCESS: 1 rule files found');
  });

  it('every alert has a severity an operator can route on and says what it means and what to do', () => {
    const rules = readAlerts().groups.flatMap((g) => g.rules);
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
    const rules = readAlerts();
    for (const group of rules.groups) for (const rule of group.rules) delete rule.annotations;
    writeFileSync(path.join(dir, 'alerts.yml'), stringify(rules));
    copyFileSync(UNIT_TESTS, path.join(dir, 'alerts.test.yml'));
    expect(promtool(['test', 'rules', 'alerts.test.yml'], dir)).toContain('SUCCESS');
    // Every alert has at least one case that expects it to fire.
    const tests = parse(readFileSync(UNIT_TESTS, 'utf8')) as { tests: Array<{ alert_rule_test: Array<{ alertname: string; exp_alerts: unknown[] }> }> };
    const fired = new Set(tests.tests.flatMap((t) => t.alert_rule_test.filter((a) => a.exp_alerts.length > 0).map((a) => a.alertname)));
    const untested = rules.groups.flatMap((g) => g.rules.map((r) => r.alert!)).filter((name) => !fired.has(name));
    expect(untested, 'alerts without a case where they fire').toEqual([]);
  });
});
