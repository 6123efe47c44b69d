import { stepPlans } from '../policies/policy-schema.js';
import type { Arm } from './judges.js';
import { figuresRow } from './report.js';
import type { ScenarioFigures } from './run-scenarios.js';
import type { TrafficScenarioResult } from './run-traffic.js';
import type { RunOptions } from './simulate-rollout.js';
import { READING, SCENARIO_FILE_REFERENCE, TRAFFIC_MODEL } from './traffic-docs.js';
import type { TrafficScenario } from './traffic-scenario.js';

/** A real-traffic run (`npm run simulate -- --scenarios file.yaml`): what ran, and the figures per scenario and arm. */
export interface TrafficReport {
  generatedAt: string;
  command: string;
  scenarioFile: string;
  rollouts: number;
  seed: number;
  arms: Array<{ label: string; policy: string; judge: string; judgeDescription: string; firstStep: number; rollouts?: number }>;
  options: RunOptions;
  scenarios: TrafficScenario[];
  results: TrafficScenarioResult[];
  seconds: number;
}

/** How many rollouts each arm ran, in words: "1000 rollouts per scenario and arm", or per arm when they differ. */
function rolloutCounts(report: TrafficReport): string {
  const counts = report.arms.map((a) => Math.min(a.rollouts ?? report.rollouts, report.rollouts));
  if (counts.every((n) => n === report.rollouts)) return `${report.rollouts} rollouts per scenario and arm`;
  return `rollouts per scenario: ${report.arms.map((a, i) => `${counts[i]} for ${a.label}`).join(', ')}`;
}

export function armSummary(arm: Arm): TrafficReport['arms'][number] {
  return {
    label: arm.label,
    policy: arm.policy.name,
    judge: arm.judge.name,
    judgeDescription: arm.judge.description,
    firstStep: stepPlans(arm.policy)[0]!.percentage,
    ...(arm.rollouts !== undefined ? { rollouts: arm.rollouts } : {}),
  };
}

/** docs/simulation.md keeps the real-traffic section between these lines; the coin-flip report leaves it in place. */
export const SECTION_START = '<!-- real-traffic:start (written by npm run simulate -- --scenarios … --section docs/simulation.md) -->';
export const SECTION_END = '<!-- real-traffic:end -->';

/** The real-traffic section of a document, markers included, or undefined. */
export function sectionOf(doc: string): string | undefined {
  const start = doc.indexOf(SECTION_START.slice(0, 24));
  const end = doc.indexOf(SECTION_END);
  return start >= 0 && end > start ? doc.slice(start, end + SECTION_END.length) : undefined;
}

/** The document with its real-traffic section replaced by `section` (appended when it has none). */
export function withSection(doc: string, section: string): string {
  const old = sectionOf(doc);
  if (old) return doc.replace(old, section);
  return `${doc.replace(/\n*$/, '')}\n\n${section}\n`;
}

const pct = (n: number, of: number) => `${((100 * n) / of).toFixed(1)} %`;
const share = (x: number) => `${(100 * x).toFixed(x < 0.1 ? 2 : 1)} %`;

export interface TargetRow {
  scenario: string;
  target: string;
  measured: Array<{ arm: string; value: string; pass: boolean }>;
}

/** The scenarios' targets, checked for every arm. */
export function trafficTargets(report: TrafficReport): TargetRow[] {
  const rows: TargetRow[] = [];
  report.scenarios.forEach((scenario, i) => {
    const t = scenario.targets;
    if (!t) return;
    const figures = report.results[i]!.figures;
    const check = (target: string, measure: (f: ScenarioFigures, firstStep: number) => { n: number; pass: (share: number) => boolean }) =>
      rows.push({
        scenario: scenario.name,
        target,
        measured: figures.map((f, a) => {
          const m = measure(f, report.arms[a]!.firstStep);
          return { arm: f.policy, value: pct(m.n, f.rollouts), pass: m.pass(m.n / f.rollouts) };
        }),
      });
    if (t.maxRolledBack !== undefined) check(`rolled back ≤ ${share(t.maxRolledBack)}`, (f) => ({ n: f.rolledBack, pass: (x) => x <= t.maxRolledBack! }));
    if (t.minCompleted !== undefined) check(`completed ≥ ${share(t.minCompleted)}`, (f) => ({ n: f.completed, pass: (x) => x >= t.minCompleted! }));
    if (t.minStoppedBefore100 !== undefined)
      check(`stopped before 100 % ≥ ${share(t.minStoppedBefore100)}`, (f) => ({ n: f.stoppedBefore100, pass: (x) => x >= t.minStoppedBefore100! }));
    if (t.minStoppedAtFirstStep !== undefined)
      check(`stopped at the first step ≥ ${share(t.minStoppedAtFirstStep)}`, (f, first) => ({
        n: f.stoppedAt[`${first}%`] ?? 0,
        pass: (x) => x >= t.minStoppedAtFirstStep!,
      }));
  });
  return rows;
}

/** Per arm, in one line each: how the healthy scenarios ended and why, and how often the regressions were stopped. */
export function outcomeSummary(report: TrafficReport): string[] {
  const range = (xs: number[]) => {
    const lo = Math.min(...xs);
    const hi = Math.max(...xs);
    return lo === hi ? `${lo.toFixed(0)} %` : `${lo.toFixed(0)}–${hi.toFixed(0)} %`;
  };
  return report.arms.map((arm, a) => {
    const healthy = report.results.filter((_, i) => !report.scenarios[i]!.regression).map((r) => r.figures[a]!);
    const regressions = report.results.filter((_, i) => report.scenarios[i]!.regression).map((r) => r.figures[a]!);
    const share = (f: ScenarioFigures, n: number) => (100 * n) / f.rollouts;
    const parts: string[] = [];
    if (healthy.length > 0) {
      const reasons = new Map<string, number>();
      for (const f of healthy) for (const r of f.reasons) reasons.set(r.reason, (reasons.get(r.reason) ?? 0) + r.count);
      const top = [...reasons].sort((x, y) => y[1] - x[1]).slice(0, 2);
      parts.push(
        `healthy scenarios completed ${range(healthy.map((f) => share(f, f.completed)))}, ` +
          `rolled back ${range(healthy.map((f) => share(f, f.rolledBack)))}, paused ${range(healthy.map((f) => share(f, f.paused)))}` +
          (top.length ? ` (mostly: ${top.map(([reason, n]) => `${reason}, ${n} runs`).join('; ')})` : ''),
      );
    }
    if (regressions.length > 0) parts.push(`regressions stopped before 100 % in ${range(regressions.map((f) => share(f, f.stoppedBefore100)))}`);
    return `- **${arm.label}** (${arm.judge}): ${parts.join('; ')}.`;
  });
}

function scenarioSummary(s: TrafficScenario): string {
  const parts = [
    `${s.users.toLocaleString('en-US')} users`,
    `${s.ratePerSecond} req/s`,
    `${share(s.errorRate)} errors`,
    s.rateDistribution === 'pareto' ? `Pareto rates (alpha ${s.paretoAlpha})` : `log-normal rates (sigma ${s.sigma})`,
    `error concentration ${s.errorConcentration}`,
  ];
  return parts.join(', ');
}

/** The real-traffic section: markers, how it was run, the model, targets, each scenario, the file format. */
export function renderTrafficSection(report: TrafficReport): string {
  const arms = report.arms;
  const out: string[] = [
    SECTION_START,
    '## Real traffic',
    '',
    `Generated by \`${report.command}\` (${report.seconds} s): **${rolloutCounts(report)}` +
      `${report.rollouts < 200 ? ' — a small run: percentages move by several points from seed to seed' : ''}**. ` +
      `Scenarios from \`${report.scenarioFile}\`; each release is a flag of its own (its own hash groupId) on a population drawn afresh, ` +
      `starting at a random minute of the day; a release manager approves each step (the first one, the Go/No-Go, too) ` +
      `${report.options.approvalDelayMs / 60_000} minutes after it starts waiting; a run ends when the rollout completes, rolls back or pauses, ` +
      `or after ${report.options.horizonMs / 3_600_000} hours.`,
    '',
    '### In short',
    '',
    ...outcomeSummary(report),
    '',
    ...READING,
    '',
    ...TRAFFIC_MODEL,
    '',
    '### Arms',
    '',
    '| arm | plan | judge |',
    '| --- | --- | --- |',
    ...arms.map((a) => `| ${a.label} | \`${a.policy}\` | ${a.judge}: ${a.judgeDescription} |`),
    '',
    '### Targets',
    '',
    "The scenario file's targets (the issue's, meant for the user-level judge), checked for every arm; the comparison arms ran fewer rollouts when the run says so.",
    '',
    `| scenario | target | ${arms.map((a) => a.label).join(' | ')} |`,
    `| --- | --- | ${arms.map(() => '---:').join(' | ')} |`,
    ...trafficTargets(report).map(
      (r) => `| ${r.scenario} | ${r.target} | ${r.measured.map((m) => `${m.value} ${m.pass ? 'PASS' : '**FAIL**'}`).join(' | ')} |`,
    ),
    '',
    '### Scenarios',
    '',
  ];
  report.scenarios.forEach((scenario, i) => {
    const { figures, population } = report.results[i]!;
    const at = population.requestShareAtOnePercent;
    out.push(
      `#### ${scenario.name}${scenario.regression ? ' (a regression: should be stopped)' : ' (healthy: should complete)'}`,
      '',
      `${scenario.description ? `${scenario.description}. ` : ''}${scenarioSummary(scenario)}. ` +
        `The busiest 1 % of users made ${share(population.topOnePercent)} of requests` +
        `${population.bots > 0 ? `, bots ${share(population.bots)}` : ''}; ` +
        `users served the flag at 1 % made ${share(at.p10)} to ${share(at.p90)} of requests (10th to 90th percentile over rollouts).`,
      '',
      '| arm | completed | rolled back | paused | unfinished | stopped before 100 % | stopped at | minutes to stop | minutes to complete |',
      '| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |',
      ...figures.map(figuresRow),
      '',
    );
    const reasons = figures.flatMap((f) => f.reasons.map((r) => `${f.policy}: ${r.reason} (${r.count})`));
    if (reasons.length > 0) out.push(`Most common reasons for stopping: ${reasons.join('; ')}.`, '');
  });
  out.push(...SCENARIO_FILE_REFERENCE, SECTION_END);
  return out.join('\n');
}

/** A whole document for `--out`: a title and the section. */
export function renderTrafficReport(report: TrafficReport): string {
  return `# Rollout simulation on real traffic\n\n${renderTrafficSection(report)}\n`;
}
