/**
 * `npm run simulate [-- --rollouts N --seed S --policy policies/standard.yaml]`: replays
 * synthetic traffic through the real decision core at a compressed clock and writes
 * docs/simulation.md (and .json) comparing the policy with a naive one on the same scenarios.
 *
 * `npm run simulate -- --scenarios file.yaml [--rollouts N] [--seed S] [--out path | --section file.md]`:
 * the real-traffic model (users, sticky assignment, daily cycles, incidents, segment regressions)
 * on a team's own scenarios; see docs/simulation.md, "Real traffic".
 *
 * `npm run simulate -- --replay [--policy file|name] [--flag f] [--environment e] [--since 7d] [--limit N] [--out path]`:
 * the rollouts stored in the controller's store replayed, read-only, under a policy; see
 * docs/simulation.md, "Replaying recorded rollouts".
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from '../config/config.js';
import { AppError } from '../errors/app-error.js';
import { FileError } from '../files/file-error.js';
import { parsePolicyFile } from '../policies/policy-service.js';
import { requestLevelJudge, userLevelJudge, type Arm } from './judges.js';
import { NAIVE_POLICY } from './naive-policy.js';
import { renderSimulationReport, type SimulationReport } from './report.js';
import { runReplay } from './replay/replay-main.js';
import { runScenario } from './run-scenarios.js';
import { runTrafficScenario } from './run-traffic.js';
import { SCENARIOS } from './scenarios.js';
import { armSummary, renderTrafficReport, renderTrafficSection, sectionOf, withSection, type TrafficReport } from './traffic-report.js';
import { readScenarioFile, type TrafficScenario } from './traffic-scenario.js';

const HELP = `npm run simulate -- [options]

  (no mode)              the coin-flip scenarios: writes docs/simulation.md and .json
      --rollouts N       rollouts per scenario and policy (default 1000)
      --seed S           the same seed gives the same figures (default 20261122)
      --policy FILE      the policy under test (default policies/standard.yaml)
      --out PATH         write PATH.md and PATH.json instead

  --scenarios FILE       the real-traffic model on a scenario file (format: docs/simulation.md)
      --rollouts N       rollouts per scenario and arm (default 100)
      --compare-rollouts M  the two comparison arms on the first M rollouts only (a long run)
      --seed S, --policy FILE
      --out PATH         write PATH.md and PATH.json
      --section FILE     replace the real-traffic section of FILE (e.g. docs/simulation.md)

  --replay               what a policy would have done with the rollouts recorded in a store.
                         Read-only; the store is the controller's: REDIS_URL and REDIS_PREFIX, or
                         DATA_DIR for the embedded store (safe beside a running controller), with
                         OUTCOME_BUCKET_MS as the controller has it.
      --policy FILE|NAME a policy file, or a policy stored under that name
                         (default: each rollout's own plan, as it was when it started)
      --flag F           only rollouts of this flag
      --environment E    only rollouts in this environment
      --since WHEN       only rollouts started since a date (2030-01-07), a time
                         (2030-01-07T09:00:00Z) or a duration back from now (7d, 12h)
      --limit N          the N most recent (default 20, at most 200)
      --out PATH         write PATH.md and PATH.json (default: the report on stdout)
                         Exit code 1 when no rollout could be replayed.

  --help                 this text
`;

const { values } = parseArgs({
  options: {
    rollouts: { type: 'string' },
    seed: { type: 'string', default: '20261122' },
    policy: { type: 'string' },
    out: { type: 'string' },
    scenarios: { type: 'string' },
    section: { type: 'string' },
    'compare-rollouts': { type: 'string' },
    replay: { type: 'boolean' },
    flag: { type: 'string' },
    environment: { type: 'string' },
    since: { type: 'string' },
    limit: { type: 'string' },
    help: { type: 'boolean' },
  },
});

const rollouts = Number(values.rollouts ?? (values.scenarios ? 100 : 1000));
const seed = Number(values.seed);
if (!Number.isInteger(rollouts) || rollouts < 1) throw new Error(`--rollouts must be a positive integer, got ${values.rollouts}`);
// The comparison arms (request-level judge, naive plan) of a long run may take fewer rollouts.
const compareRollouts = values['compare-rollouts'] === undefined ? undefined : Number(values['compare-rollouts']);
if (compareRollouts !== undefined && !(Number.isInteger(compareRollouts) && compareRollouts >= 1))
  throw new Error(`--compare-rollouts must be a positive integer, got ${values['compare-rollouts']}`);
const policyPath = values.policy ?? 'policies/standard.yaml';
// Read by the simulation modes only: with --replay, --policy may name a stored policy instead.
const standardPolicy = () => parsePolicyFile(policyPath, readFileSync(policyPath, 'utf8')).policy;
// A release manager who answers within five minutes; nothing runs longer than three days.
const options = { approvalDelayMs: 5 * 60_000, horizonMs: 3 * 24 * 3600_000 };
const started = Date.now();
const seconds = () => Math.round((Date.now() - started) / 100) / 10;
const progress = (scenario: string, policy: string, f: { completed: number; rolledBack: number; paused: number; unfinished: number }) =>
  process.stderr.write(
    `${scenario.padEnd(28)} ${policy.slice(0, 12).padEnd(12)} ` +
      `completed ${f.completed}, rolled back ${f.rolledBack}, paused ${f.paused}, unfinished ${f.unfinished}\n`,
  );

function coinFlip(): void {
  const standard = standardPolicy();
  const figures = [];
  for (const scenario of SCENARIOS) {
    for (const policy of [standard, NAIVE_POLICY]) {
      const f = runScenario(policy, scenario, rollouts, seed, options);
      figures.push(f);
      progress(scenario.name, policy.name, f);
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
    seconds: seconds(),
  };
  const out = values.out ?? 'docs/simulation';
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(`${out}.json`, JSON.stringify(report, null, 2));
  // The real-traffic section (written by --scenarios … --section) stays as it was.
  const kept = existsSync(`${out}.md`) ? sectionOf(readFileSync(`${out}.md`, 'utf8')) : undefined;
  const md = renderSimulationReport(report);
  writeFileSync(`${out}.md`, kept ? withSection(md, kept) : md);
  process.stderr.write(`wrote ${out}.md and ${out}.json in ${report.seconds} s\n`);
}

function realTraffic(file: string): void {
  let scenarios: TrafficScenario[];
  try {
    scenarios = readScenarioFile(file);
  } catch (err) {
    if (!(err instanceof FileError)) throw err;
    for (const line of err.lines()) process.stderr.write(`${line}\n`);
    process.exit(1);
  }
  const standard = standardPolicy();
  const arms: Arm[] = [
    { label: 'standard, users', policy: standard, judge: userLevelJudge },
    { label: 'standard', policy: standard, judge: requestLevelJudge, rollouts: compareRollouts },
    { label: 'naive', policy: NAIVE_POLICY, judge: requestLevelJudge, rollouts: compareRollouts },
  ];
  const results = scenarios.map((scenario) => {
    const result = runTrafficScenario(scenario, arms, rollouts, seed, options);
    for (const f of result.figures) progress(scenario.name, f.policy, f);
    return result;
  });
  const policyArg = policyPath === 'policies/standard.yaml' ? '' : ` --policy ${policyPath}`;
  const sectionArg = `${compareRollouts !== undefined ? ` --compare-rollouts ${compareRollouts}` : ''}${values.section ? ` --section ${values.section}` : ''}`;
  const report: TrafficReport = {
    generatedAt: new Date().toISOString(),
    command: `npm run simulate -- --scenarios ${file} --rollouts ${rollouts} --seed ${seed}${policyArg}${sectionArg}`,
    scenarioFile: file,
    rollouts,
    seed,
    arms: arms.map(armSummary),
    options,
    scenarios,
    results,
    seconds: seconds(),
  };
  if (values.section) {
    const doc = existsSync(values.section) ? readFileSync(values.section, 'utf8') : '';
    writeFileSync(values.section, withSection(doc, renderTrafficSection(report)));
    process.stderr.write(`wrote the real-traffic section of ${values.section} in ${report.seconds} s\n`);
  }
  if (values.out) {
    mkdirSync(path.dirname(values.out), { recursive: true });
    writeFileSync(`${values.out}.json`, JSON.stringify(report, null, 2));
    writeFileSync(`${values.out}.md`, renderTrafficReport(report));
    process.stderr.write(`wrote ${values.out}.md and ${values.out}.json in ${report.seconds} s\n`);
  }
  if (!values.section && !values.out) process.stdout.write(renderTrafficReport(report));
}

if (values.help) process.stdout.write(HELP);
else if (values.replay) {
  runReplay(values, process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (err) => {
      const known = err instanceof AppError || err instanceof ConfigError || err instanceof FileError;
      const lines = err instanceof FileError ? err.lines() : [known ? err.message : ((err as Error).stack ?? String(err))];
      for (const line of lines) process.stderr.write(`${line}\n`);
      process.exitCode = 1;
    },
  );
} else if (values.scenarios) realTraffic(values.scenarios);
else coinFlip();
