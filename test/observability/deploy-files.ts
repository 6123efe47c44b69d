import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

/** The monitoring files in deploy/ that the tests hold to the controller's real /metrics. */
export const ROOT = path.resolve(import.meta.dirname, '../..');
export const ALERTS = path.join(ROOT, 'deploy/prometheus/alerts.yml');
export const SCRAPE_CONFIG = path.join(ROOT, 'deploy/prometheus/prometheus.yml');
export const DASHBOARD = path.join(ROOT, 'deploy/grafana/dashboard.json');

export interface AlertRule {
  alert?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface RuleFile {
  groups: Array<{ name: string; rules: AlertRule[] }>;
}

export function readAlerts(): RuleFile {
  return parse(readFileSync(ALERTS, 'utf8')) as RuleFile;
}

export interface DashboardPanel {
  type: string;
  title: string;
  description?: string;
  gridPos: { h: number; w: number; x: number; y: number };
  targets?: Array<{ refId: string; expr: string; legendFormat?: string }>;
}

export function readDashboard(): { title: string; uid: string; panels: DashboardPanel[]; templating: { list: Array<{ name: string }> } } {
  return JSON.parse(readFileSync(DASHBOARD, 'utf8'));
}

/** Every PromQL expression of the alert rules and the dashboard's panels. */
export function allExpressions(): Array<{ where: string; expr: string }> {
  const alerts = readAlerts().groups.flatMap((g) => g.rules.map((r) => ({ where: `alert ${r.alert}`, expr: r.expr })));
  const panels = readDashboard().panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: `panel "${p.title}"`, expr: t.expr })));
  return [...alerts, ...panels];
}

/** Metric names the controller itself must export (Prometheus' own `up` is not one of them). */
export function referencedMetricNames(expr: string): string[] {
  return [...new Set(expr.match(/\b(?:rollout_controller|process|nodejs)_[a-z0-9_]+\b/g) ?? [])];
}

/** Runs promtool; a missing promtool fails with the command that installs it, never skips. */
export function promtool(args: string[], cwd = ROOT): string {
  const run = spawnSync('promtool', args, { cwd, encoding: 'utf8', timeout: 60_000 });
  if (run.error) throw new Error(`promtool is not installed (${run.error.message}); run: bash scripts/ensure-tool.sh promtool prometheus`);
  const output = `${run.stdout}${run.stderr}`;
  if (run.status !== 0) throw new Error(`promtool ${args.join(' ')} failed:\n${output}`);
  return output;
}
