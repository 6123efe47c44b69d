/**
 * `npm run simulate [-- --rollouts N --seed S --policy policies/standard.yaml]`: replays
 * synthetic traffic through the real decision core at a compressed clock and writes
 * docs/simulation.md (and .json) comparing the policy with a naive one on the same scenarios.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parsePolicyFile } from '../policies/policy-service.js';
import { NAIVE_POLICY } from './naive-policy.js';
import { renderSimulationReport, type SimulationReport } from './report.js';
import { runScenario } from './run-scenarios.js';
import { SCENARIOS } from './scenarios.js';

const { values } = parseArgs({
  options: {
    rollouts: { type: 'string', default: '1000' },
    seed: { type: 'string', default: '20261122' },
    policy: { type: 'string', default: 'policies/standard.yaml' },
    out: { type: 'string', default: 'docs/simulation' },
  },
});

const rollouts = Number(values.rollouts);
const seed = Number(values.seed);
if (!Number.isInteger(rollouts) || rollouts < 1) throw new Error(`--rollouts must be a positive integer, got ${values.rollouts}`);
const policyPath = values.policy!;
const standard = parsePolicyFile(policyPath, readFileSync(policyPath, 'utf8')).policy;
// A release manager who answers within five minutes; nothing runs longer than three days.
const options = { approvalDelayMs: 5 * 60_000, horizonMs: 3 * 24 * 3600_000 };

const started = Date.now();
const figures = [];
for (const scenario of SCENARIOS) {
  for (const policy of [standard, NAIVE_POLICY]) {
    const f = runScenario(policy, scenario, rollouts, seed, options);
    figures.push(f);
    process.stderr.write(
      `${scenario.name.padEnd(24)} ${policy.name.slice(0, 12).padEnd(12)} ` +
        `completed ${f.completed}, rolled back ${f.rolledBack}, paused ${f.paused}, unfinished ${f.unfinished}\n`,
    );
  }
}
const report: SimulationReport = {
  generatedAt: new Date().toISOString(),
  command: `npm run simulate -- --rollouts ${rollouts} --seed ${seed}`,
  rollouts,
  seed,
  policy: standard,
  policyFile: policyPath,
  naive: NAIVE_POLICY,
  options,
  scenarios: SCENARIOS,
  figures,
  seconds: Math.round((Date.now() - started) / 100) / 10,
};
const out = values.out!;
mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(`${out}.json`, JSON.stringify(report, null, 2));
writeFileSync(`${out}.md`, renderSimulationReport(report));
process.stderr.write(`wrote ${out}.md and ${out}.json in ${report.seconds} s\n`);
