import type { Rollout, RolloutState } from '../rollouts/rollout-model.js';
import { stepPercentages } from '../reports/rollout-facts.js';
import { conditionText, rolloutStatus, type RolloutStatus } from '../rollouts/rollout-status.js';
import { counted, verdictText } from '../rollouts/units.js';
import { hasEnteredAStep } from '../rollouts/approvals.js';
import { stateWords } from '../reports/go-live-report.js';
import { humanDuration } from '../reports/rollout-facts.js';
import { formatCheckSamples, formatValue, formatTime } from '../reports/report-format.js';
import { isDone, isFinal } from '../rollouts/rollout-model.js';
import { table } from './output.js';

/** What `status` shows of each rollout: pure, so the table and the JSON are tested without a server. */

const BAR_WIDTH = 16;

/** How many steps a rollout has reached (a completed one has reached them all; one at 0 % none yet). */
function reached(rollout: Pick<Rollout, 'state' | 'stepIndex' | 'percentage'>, steps: number): number {
  if (!hasEnteredAStep(rollout)) return 0;
  if (rollout.state === 'completed') return steps;
  return rollout.stepIndex + 1;
}

/**
 * A bar filled by steps reached, then the steps with the current one in brackets, e.g.
 * "████████········ 1% › [10%] › 50% › 100%"; a rolled-back or aborted step is marked ✗.
 */
export function progressBar(rollout: Pick<Rollout, 'plan' | 'state' | 'stepIndex' | 'percentage'>): string {
  const steps = stepPercentages(rollout);
  const done = reached(rollout, steps.length);
  const filled = Math.round((BAR_WIDTH * done) / steps.length);
  const stopped = rollout.state === 'rolled_back' || rollout.state === 'aborted';
  const labels = steps.map((p, i) =>
    i === rollout.stepIndex && hasEnteredAStep(rollout) && rollout.state !== 'completed' ? `[${p}%${stopped ? ' ✗' : ''}]` : `${p}%`,
  );
  return `${'█'.repeat(filled)}${'·'.repeat(BAR_WIDTH - filled)} ${labels.join(' › ')}`;
}

/** Gate verdicts at a glance: "2 pass, 1 inconclusive", or "—" before the first judgement. */
export function gatesGlance(gates: Rollout['gates']): string {
  if (gates.length === 0) return '—';
  const counts = new Map<string, number>();
  for (const g of gates) counts.set(verdictText(g), (counts.get(verdictText(g)) ?? 0) + 1);
  return ['fail', 'inconclusive', 'pass', 'not judged']
    .filter((v) => counts.has(v))
    .map((v) => `${counts.get(v)} ${v}`)
    .join(', ');
}

export interface StatusEntry {
  id: string;
  flag: string;
  environment: string;
  policy: string;
  state: RolloutState;
  stepIndex: number;
  steps: number[];
  percentage: number;
  timeInStep: string | null;
  /** What users get now: "serving 10%", "served disabled (kill switch: …)". */
  served: string;
  waitingFor: string | null;
  gates: Rollout['gates'];
  startedBy: string;
  updatedAt: string;
}

/** The status the API sent with the rollout, or one worked out here (without the flag's kill switch) from an older server. */
export function statusOf(r: Rollout & { status?: RolloutStatus }, now: Date): RolloutStatus {
  return r.status ?? rolloutStatus(r, undefined, now);
}

/** What keeps a rollout where it is, in words; null once it is final. */
export function waitingText(status: RolloutStatus): string | null {
  if (!status.active) return null;
  const unmet = status.waitingFor.filter((c) => !c.met).map(conditionText);
  return unmet.length ? unmet.join('; ') : 'the next analysis';
}

export function statusEntries(rollouts: Array<Rollout & { status?: RolloutStatus }>, now: Date, all: boolean): StatusEntry[] {
  return rollouts
    .filter((r) => all || !isDone(r))
    .map((r) => ({
      id: r.id,
      flag: r.release ? `${r.release.name} (release: ${r.release.flags.join(', ')})` : r.flag,
      environment: r.environment,
      policy: r.policy,
      state: r.state,
      ...(r.startAt ? { startAt: r.startAt } : {}),
      stepIndex: r.stepIndex,
      steps: stepPercentages(r),
      percentage: r.percentage,
      timeInStep: isFinal(r.state) || r.state === 'scheduled' ? null : humanDuration(now.getTime() - Date.parse(r.stepStartedAt)),
      served: statusOf(r, now).served.text,
      waitingFor: waitingText(statusOf(r, now)),
      gates: r.gates,
      startedBy: r.startedBy.name,
      updatedAt: r.updatedAt,
    }));
}

export function statusTable(rollouts: Rollout[], now: Date, all: boolean): string {
  const byId = new Map(rollouts.map((r) => [r.id, r]));
  const entries = statusEntries(rollouts, now, all);
  if (entries.length === 0) return all ? 'No rollouts.' : 'No active rollouts (--all shows finished ones).';
  return table(
    ['ID', 'FLAG', 'ENV', 'STATE', 'PROGRESS', 'SERVED', 'GATES', 'IN STEP', 'WAITING FOR'],
    entries.map((e) => [
      e.id.slice(0, 8),
      e.flag,
      e.environment,
      stateWords(e.state),
      progressBar(byId.get(e.id)!),
      e.served,
      gatesGlance(e.gates),
      e.timeInStep ?? '—',
      e.waitingFor ?? '—',
    ]),
  );
}

/** One rollout's history for `history`: a line per transition, its gate evidence indented below. */
export function historyText(rollout: Rollout): string {
  const lines = [`${rollout.flag} in ${rollout.environment} (${rollout.id}), policy ${rollout.policy}: ${stateWords(rollout.state)}`, progressBar(rollout), ''];
  if (rollout.history.length === 0) lines.push('No transitions yet.');
  for (const t of rollout.history) {
    lines.push(`${formatTime(t.at)}  ${stateWords(t.from)} → ${stateWords(t.to)}  ${t.percentage}%  by ${t.actor}: ${t.reason}`);
    if (t.samples) lines.push(`    samples: treatment ${counted(t.samples.treatment, 'request')}, control ${counted(t.samples.control, 'request')}`);
    for (const g of [...(t.gates ?? []), ...(t.rollbackChecks ?? [])]) {
      lines.push(
        `    ${verdictText(g).toUpperCase().padEnd(12)} ${g.rule}: ${formatValue(g.metric, g.value)} ` +
          `over ${formatCheckSamples(g.metric, g.samples)} (threshold ${formatValue(g.metric, g.threshold)})`,
      );
    }
    for (const a of t.approvals ?? [])
      lines.push(`    approved by ${a.by.name}${a.by.role ? ` (${a.by.role})` : ''} at ${formatTime(a.at)}${a.comment ? `: ${a.comment}` : ''}`);
  }
  return lines.join('\n');
}
