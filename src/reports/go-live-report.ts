import type { AuditEvent } from '../audit/chain.js';
import { formatDuration } from '../policies/durations.js';
import { stepPlans } from '../policies/policy-schema.js';
import type { CheckResult, Rollout, RolloutState } from '../rollouts/rollout-model.js';
import { stateWords } from '../rollouts/state-words.js';
import type { KillSwitch } from '../flags/schema.js';
import { advancedTo, say, type Wording, wording } from '../rollouts/reason-wording.js';
import { causeText, endedAt, rolloutStatus } from '../rollouts/rollout-status.js';
import { advancedApprovedBy, latestAnalysis, statusWording } from '../rollouts/status-wording.js';
import {
  english,
  gateRule,
  onGateFailureText,
  rollbackRule,
  sharedBreachText,
  trafficRules,
  watchText,
  windowsText,
  type Words as PolicyWords,
} from '../policies/policy-words.js';
import { humanDuration } from './rollout-facts.js';

/**
 * The go-live report as data: what a change board files for one rollout. Built once from the
 * rollout (its history carries the evidence behind every transition) and its audit events, then
 * rendered as Markdown or HTML, so both forms always say the same thing.
 */

export interface EvidenceRow {
  at: string;
  /** What the evidence led to, e.g. "awaiting approval", "advanced to 10%", "latest analysis". */
  outcome: string;
  /** The outcome's wording (status-wording.ts, reason-wording.ts), so a report in another language says it in that language. */
  outcomeWording?: Wording;
  samples?: { treatment: number; control: number };
  gates: CheckResult[];
}

export interface StepSection {
  index: number;
  percentage: number;
  enteredAt?: string;
  leftAt?: string;
  timeInStep?: string;
  minSamples: number;
  minDuration: string;
  approvalsNeeded: string;
  evidence: EvidenceRow[];
}

export interface ReportApproval {
  percentage: number;
  ahead?: boolean;
  by: string;
  role?: string;
  at: string;
  comment?: string;
}

export interface Breach {
  at: string;
  /** Whether a rollback rule or a gate failing beyond doubt caused it. */
  kind: 'rollback-rule' | 'gate';
  rule: string;
  metric: string;
  cohort: string;
  value: number | null;
  threshold: number;
  samples: number;
  sustainedFor?: string;
  requiredFor?: string;
  reason: string;
  /** The reason's wording (reason-wording.ts), so a report in another language says it in that language; absent on older entries. */
  reasonWording?: Wording;
  /** The cause in words, with units, bounds and samples. */
  text: string;
  test?: CheckResult['test'];
  /** The other checks of that analysis that also failed (inconclusive and passing ones are not breaches). */
  alsoFailing: CheckResult[];
  /** A breach during the watch after completion: when the rollout had completed. */
  completedAt?: string;
}

export interface GoLiveReport {
  title: string;
  generatedAt: string;
  summary: {
    id: string;
    flag: string;
    /** A release: its name and every flag it ramped. */
    release?: { name: string; flags: string[] };
    environment: string;
    policy: string;
    policyDescription?: string;
    startedBy: string;
    startedAt: string;
    endedAt?: string;
    state: RolloutState;
    outcome: string;
    /** The outcome's wording (status-wording.ts), so a report in another language says it in that language. */
    outcomeWording?: Wording;
    duration: string;
    steps: number[];
    percentage: number;
  };
  plan: {
    gates: string[];
    traffic: string[];
    rollback: string[];
    onGateFailure: string;
    /** What a breach control shares does (attribution). */
    onSharedBreach: string;
    /** How long the rollback rules watch after completion, when they do. */
    watchAfterCompletion?: string;
    windows?: string;
    killSwitches: string[];
  };
  timeline: Array<{ at: string; from: RolloutState; to: RolloutState; percentage: number; actor: string; reason: string; reasonWording?: Wording }>;
  steps: StepSection[];
  approvals: ReportApproval[];
  breach?: Breach;
  audit: Array<{ seq: number; at: string; actor: string; action: string; target: string; reason?: string; hash: string }>;
  auditTruncated: boolean;
}

export { stateWords };

/** Which step each transition's evidence was judged on: the step the rollout was in before it. */
function stepSections(rollout: Rollout, now: Date): StepSection[] {
  const plans = stepPlans(rollout.plan);
  const sections: StepSection[] = plans.map((plan, index) => ({
    index,
    percentage: plan.percentage,
    minSamples: plan.minSamples,
    minDuration: formatDuration(plan.minDurationMs),
    // The first step is entered when the rollout starts: approvals gate only the steps after it.
    // The first step's approval is the Go/No-Go: it serves nothing until given.
    approvalsNeeded:
      plan.approval.required === 0 ? 'none' : `${plan.approval.required} (${plan.approval.roles.join(' or ')})${index === 0 ? ', the Go/No-Go' : ''}`,
    evidence: [],
  }));
  let current = 0;
  let entered = false;
  for (const t of rollout.history) {
    const judged = sections[current];
    if (judged && entered && t.gates?.length) {
      const approvedBy = t.approvals?.map((a) => a.by.name).join(', ');
      const outcome = t.to !== 'running' ? wording(stateWords(t.to)) : approvedBy ? advancedApprovedBy(t.percentage, approvedBy) : advancedTo(t.percentage);
      judged.evidence.push({ at: t.at, ...outcomeOf(outcome), ...(t.samples ? { samples: t.samples } : {}), gates: t.gates });
    }
    const enteringStep = t.to === 'running' && (t.stepIndex !== current || !entered);
    if (enteringStep) {
      if (judged && entered) judged.leftAt = t.at;
      current = t.stepIndex;
      entered = true;
      sections[current]!.enteredAt ??= t.at;
    } else if (entered && (t.to === 'completed' || t.to === 'rolled_back' || t.to === 'aborted') && judged) {
      // A rollback during the watch after completion does not move when the last step was left: at completion.
      judged.leftAt ??= t.at;
    }
  }
  const live = sections[current];
  if (live && entered && rollout.gates.length > 0 && !live.leftAt) {
    live.evidence.push({ at: rollout.lastEvaluatedAt ?? rollout.updatedAt, ...outcomeOf(latestAnalysis(rollout.stepVerdict.kind)), gates: rollout.gates });
  }
  for (const s of sections) {
    if (s.enteredAt) s.timeInStep = humanDuration(Date.parse(s.leftAt ?? now.toISOString()) - Date.parse(s.enteredAt));
  }
  return sections;
}

/**
 * The check that caused a rollback: recorded on the transition by decide. Rollouts rolled back
 * before that was recorded name it in their reason, which is matched against the checks then.
 */
function findBreach(rollout: Rollout): Breach | undefined {
  const t = rollout.history.findLast((h) => h.to === 'rolled_back');
  if (!t) return undefined;
  const checks = [...(t.gates ?? []), ...(t.rollbackChecks ?? rollout.rollbackChecks)];
  const cause =
    t.cause ??
    (t.rollbackChecks ?? []).map((c) => ({ ...c, kind: 'rollback-rule' as const })).find((c) => t.reason.startsWith(`rollback rule ${c.rule} breached`)) ??
    (t.gates ?? []).map((c) => ({ ...c, kind: 'gate' as const })).find((c) => t.reason.startsWith(`gate ${c.rule} failed`));
  if (!cause) return undefined;
  const index = cause.kind === 'rollback-rule' ? (t.rollbackChecks ?? []).findIndex((c) => c.rule === cause.rule) : -1;
  const rule = index >= 0 ? rollout.plan.rollback[index] : undefined;
  const since = index >= 0 ? rollout.breachingSince[index] : undefined;
  const completed = t.from === 'completed' ? rollout.history.findLast((h) => h.to === 'completed') : undefined;
  return {
    at: t.at,
    kind: cause.kind,
    rule: cause.rule,
    metric: cause.metric,
    cohort: cause.cohort,
    value: cause.value,
    threshold: cause.threshold,
    samples: cause.samples,
    ...(since ? { sustainedFor: humanDuration(Date.parse(t.at) - Date.parse(since)) } : {}),
    ...(rule && rule.for > 0 ? { requiredFor: formatDuration(rule.for) } : {}),
    reason: t.reason,
    ...(t.reasonWording ? { reasonWording: t.reasonWording } : {}),
    text: causeText(cause),
    ...(cause.test ? { test: cause.test } : {}),
    alsoFailing: checks.filter((c) => c.verdict === 'fail' && c.rule !== cause.rule),
    ...(completed ? { completedAt: completed.at } : {}),
  };
}

function auditRows(events: AuditEvent[]): GoLiveReport['audit'] {
  return events.map((e) => ({
    seq: e.seq,
    at: e.at,
    actor: e.actor.name,
    action: e.action,
    target: `${e.target.type} ${e.target.id}${e.target.environment ? ` in ${e.target.environment}` : ''}`,
    ...(e.reason ? { reason: e.reason } : {}),
    hash: e.hash.slice(0, 12),
  }));
}

/** `words`: the language the plan's sentences are written in (policy-words.ts templates); English by default. */
export function buildGoLiveReport(
  rollout: Rollout,
  audit: { events: AuditEvent[]; truncated: boolean },
  now: Date,
  killSwitch?: KillSwitch,
  words: PolicyWords = english,
): GoLiveReport {
  const plans = stepPlans(rollout.plan);
  const end = endedAt(rollout);
  const ms = Date.parse(end ?? now.toISOString()) - Date.parse(rollout.createdAt);
  const windows = rollout.plan.windows;
  return {
    title: `Go-live report: ${rollout.release ? `release ${rollout.release.name}` : rollout.flag} in ${rollout.environment}`,
    generatedAt: now.toISOString(),
    summary: {
      id: rollout.id,
      flag: rollout.flag,
      ...(rollout.release ? { release: rollout.release } : {}),
      environment: rollout.environment,
      policy: rollout.policy,
      ...(rollout.plan.description ? { policyDescription: rollout.plan.description } : {}),
      startedBy: `${rollout.startedBy.name}${rollout.startedBy.role ? ` (${rollout.startedBy.role})` : ''}`,
      startedAt: rollout.createdAt,
      ...(end ? { endedAt: end } : {}),
      state: rollout.state,
      ...outcomeOf(statusWording(rollout, rolloutStatus(rollout, killSwitch, now))),
      duration: `${humanDuration(ms)}${end ? '' : ' so far'}`,
      steps: plans.map((p) => p.percentage),
      percentage: rollout.percentage,
    },
    plan: {
      gates: rollout.plan.gates.map((g) => gateRule(g, words)),
      traffic: rollout.plan.traffic ? trafficRules(rollout.plan.traffic, words) : [],
      rollback: rollout.plan.rollback.map((r) => rollbackRule(r, words)),
      onGateFailure: onGateFailureText(rollout.plan, words),
      onSharedBreach: sharedBreachText(rollout.plan, words),
      ...(watchText(rollout.plan, words) ? { watchAfterCompletion: watchText(rollout.plan, words) } : {}),
      ...(windowsText(windows, words) ? { windows: windowsText(windows, words) } : {}),
      killSwitches: rollout.plan.killSwitches,
    },
    timeline: rollout.history.map((t) => ({
      at: t.at,
      from: t.from,
      to: t.to,
      percentage: t.percentage,
      actor: t.actor,
      reason: t.reason,
      ...(t.reasonWording ? { reasonWording: t.reasonWording } : {}),
    })),
    steps: stepSections(rollout, now),
    approvals: rollout.approvals.map((a) => ({
      percentage: plans[a.step]?.percentage ?? Number.NaN,
      ...(a.ahead ? { ahead: true } : {}),
      by: a.by.name,
      ...(a.by.role ? { role: a.by.role } : {}),
      at: a.at,
      ...(a.comment ? { comment: a.comment } : {}),
    })),
    ...(rollout.state === 'rolled_back' ? { breach: findBreach(rollout) } : {}),
    audit: auditRows(audit.events),
    auditTruncated: audit.truncated,
  };
}

const outcomeOf = (w: Wording) => ({ outcome: say(w), outcomeWording: w });
