import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parsePolicyFile } from '../../src/policies/policy-service.js';
import { requestLevelJudge, type Arm } from '../../src/simulation/judges.js';
import { NAIVE_POLICY } from '../../src/simulation/naive-policy.js';
import { runTrafficScenario } from '../../src/simulation/run-traffic.js';
import {
  armSummary,
  renderTrafficSection,
  SECTION_END,
  SECTION_START,
  sectionOf,
  trafficTargets,
  withSection,
  type TrafficReport,
} from '../../src/simulation/traffic-report.js';
import { trafficScenarioSchema } from '../../src/simulation/traffic-scenario.js';

/** The real-traffic report: a section of docs/simulation.md that the coin-flip report keeps, with a column per arm. */
describe('real-traffic report', () => {
  const standard = parsePolicyFile('policies/standard.yaml', readFileSync('policies/standard.yaml', 'utf8')).policy;
  const arms: Arm[] = [
    { label: 'standard', policy: standard, judge: requestLevelJudge },
    { label: 'naive', policy: NAIVE_POLICY, judge: requestLevelJudge },
  ];
  const options = { approvalDelayMs: 5 * 60_000, horizonMs: 3 * 24 * 3600_000 };
  const scenario = trafficScenarioSchema.parse({
    name: 'errors ×10',
    users: 3000,
    ratePerSecond: 50,
    regression: { errorFactor: 10 },
    targets: { minStoppedBefore100: 0.95, minStoppedAtFirstStep: 0.99, minCompleted: 0.5 },
  });
  const report: TrafficReport = {
    generatedAt: '2030-01-07T00:00:00.000Z',
    command: 'npm run simulate -- --scenarios x.yaml --rollouts 2 --seed 1',
    scenarioFile: 'x.yaml',
    rollouts: 2,
    seed: 1,
    arms: arms.map(armSummary),
    options,
    scenarios: [scenario],
    results: [runTrafficScenario(scenario, arms, 2, 1, options)],
    seconds: 1,
  };

  it('checks each target for every arm', () => {
    const rows = trafficTargets(report);
    expect(rows.map((r) => r.target)).toEqual(['completed ≥ 50.0 %', 'stopped before 100 % ≥ 95.0 %', 'stopped at the first step ≥ 99.0 %']);
    expect(rows[0]!.measured).toEqual([
      { arm: 'standard', value: '0.0 %', pass: false },
      { arm: 'naive', value: '0.0 %', pass: false },
    ]);
    expect(rows[2]!.measured.map((m) => m.pass)).toEqual([true, true]);
  });

  it('renders a section between markers, with a row per arm and the scenario file reference', () => {
    const section = renderTrafficSection(report);
    expect(section.startsWith(SECTION_START)).toBe(true);
    expect(section.endsWith(SECTION_END)).toBe(true);
    expect(section).toContain('a small run');
    expect(section).toMatch(/\| standard \| 0\.0 % \| 100\.0 % \|/);
    expect(section).toMatch(/\| naive \| 0\.0 % \| 100\.0 % \|/);
    expect(section).toContain('### The scenario file');
  });

  it('is appended to a document once, then replaced in place', () => {
    const doc = '# Rollout simulation\n\nfigures\n';
    const once = withSection(doc, `${SECTION_START}\nfirst\n${SECTION_END}`);
    expect(once).toBe(`# Rollout simulation\n\nfigures\n\n${SECTION_START}\nfirst\n${SECTION_END}\n`);
    const twice = withSection(`${once}after\n`, `${SECTION_START}\nsecond\n${SECTION_END}`);
    expect(twice).toBe(`# Rollout simulation\n\nfigures\n\n${SECTION_START}\nsecond\n${SECTION_END}\nafter\n`);
    expect(sectionOf(twice)).toBe(`${SECTION_START}\nsecond\n${SECTION_END}`);
    expect(sectionOf(doc)).toBeUndefined();
  });
});
