import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { promtool, readDashboard } from './deploy-files.js';

/** Grafana's own variables, replaced by what they stand for so that promtool can parse the queries. */
function asPlainPromQL(expr: string): string {
  return expr.replaceAll('$__rate_interval', '5m').replaceAll('$instance', '.*');
}

describe('Grafana dashboard in deploy/grafana', () => {
  const dashboard = readDashboard();
  const graphs = dashboard.panels.filter((p) => p.type !== 'row');

  it('shows what an operator watches, each panel with a query and a description', () => {
    expect(dashboard.uid).toBe('rollout-controller');
    expect(dashboard.templating.list.map((v) => v.name)).toEqual(['datasource', 'instance']);
    const titles = graphs.map((p) => p.title.toLowerCase()).join(' | ');
    for (const topic of [
      'requests per second',
      'p99 latency by route',
      'open streams',
      'version lag',
      'rollouts by state',
      'gate results',
      'kills',
      'approvals',
      'leader',
      'store p99',
      'store errors',
    ]) {
      expect(titles).toContain(topic);
    }
    for (const panel of graphs) {
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      expect(panel.description?.length ?? 0, panel.title).toBeGreaterThan(10);
      expect(panel.gridPos.x + panel.gridPos.w, panel.title).toBeLessThanOrEqual(24);
    }
  });

  it('panels do not overlap', () => {
    const cells = new Set<string>();
    for (const panel of dashboard.panels) {
      const { x, y, w, h } = panel.gridPos;
      for (let i = x; i < x + w; i++) {
        for (let j = y; j < y + h; j++) {
          expect(cells.has(`${i},${j}`), `${panel.title} overlaps at ${i},${j}`).toBe(false);
          cells.add(`${i},${j}`);
        }
      }
    }
  });

  it('every query is valid PromQL (parsed by promtool as recording rules)', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'rc-dashboard-'));
    const rules = graphs.flatMap((p, i) => p.targets!.map((t) => ({ record: `dashboard:panel${i}:${t.refId}`, expr: asPlainPromQL(t.expr) })));
    const file = path.join(dir, 'dashboard-queries.yml');
    writeFileSync(file, stringify({ groups: [{ name: 'dashboard', rules }] }));
    expect(promtool(['check', 'rules', file])).toContain(`SUCCESS: ${rules.length} rules found`);
  });
});
