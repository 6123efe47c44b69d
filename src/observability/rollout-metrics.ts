import type { Registry } from 'prom-client';
import { AUDIT_LOG } from '../audit/audited-commit.js';
import type { AuditEvent } from '../audit/chain.js';
import { ROLLOUT_STATES, type CheckResult, type Rollout } from '../rollouts/rollout-model.js';
import type { RolloutChange } from '../rollouts/rollout-writer.js';
import type { TickReport } from '../rollouts/rollout-loop.js';
import type { Commit } from '../store/port.js';
import { metricsOn } from './metric-factory.js';

/** A follower's tick is one lease round trip; a leader's reads, judges and writes up to thousands of rollouts. */
const TICK_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export interface RolloutMetrics {
  /** A committed rollout change (RolloutService.onChange): only the replica that committed it is told, so counting it here counts it once. */
  changed(change: RolloutChange): void;
  /** A commit that landed: its audit events say which kill switches were flipped, and by whom. */
  committed(commit: Commit): void;
  /** One pass of the rollout loop on this replica. */
  ticked(report: TickReport): void;
}

/**
 * The gates an analysis judged afresh. When a step ends (advance, completion, approval wait, a
 * proven failure) the judged gates move into the new transition and the rollout starts the next
 * step with none, so they are read from there; an analysis without data (the provider failed) or
 * one cut short by a rollback rule judged none.
 */
export function judgedGates(before: Rollout | null, after: Rollout): CheckResult[] {
  if (!before || after.lastEvaluatedAt === undefined || after.lastEvaluatedAt === before.lastEvaluatedAt) return [];
  if (after.checks.providerErrors > before.checks.providerErrors) return [];
  const withGates = after.history.slice(before.history.length).findLast((t) => t.gates);
  if (withGates) return withGates.gates!;
  if (before.state !== 'running' && before.state !== 'awaiting_approval') return [];
  return after.state === 'rolled_back' ? [] : after.gates;
}

/** Who flipped a kill switch: a person (signed in, or with a token) or automation with a token, or the controller rolling back on its own. */
function killTrigger(event: AuditEvent): 'manual' | 'automatic' {
  return event.actor.type === 'token' || event.actor.type === 'person' ? 'manual' : 'automatic';
}

export function rolloutMetrics(registry: Registry): RolloutMetrics {
  const { counter, histogram } = metricsOn(registry);
  const transitions = counter('rollout_controller_rollout_transitions_total', 'Rollout state transitions committed by this replica, by the state entered.', [
    'to',
  ]);
  const gateResults = counter(
    'rollout_controller_gate_results_total',
    'Gate verdicts of the rollout analyses committed by this replica (one per gate per analysis).',
    ['verdict'],
  );
  const approvals = counter(
    'rollout_controller_approvals_total',
    'Approvals recorded by this replica, by the step (1-based) they let a rollout advance into.',
    ['step'],
  );
  const kills = counter(
    'rollout_controller_kills_total',
    'Kill switches flipped on (a flag served disabled in one environment) by this replica: manual (an admin token) or automatic (a rollback).',
    ['trigger'],
  );
  const auditEvents = counter(
    'rollout_controller_audit_events_total',
    'Audit events committed by this replica, by action (every change of state writes one).',
    ['action'],
  );
  const tickDuration = histogram(
    'rollout_controller_tick_duration_seconds',
    'Duration of one pass of the rollout loop, by the role this replica had in it (leader or follower).',
    TICK_BUCKETS,
    ['role'],
  );
  const analysed = counter('rollout_controller_rollouts_analysed_total', 'Rollout analyses run by this replica while it led.');
  const analysisErrors = counter(
    'rollout_controller_analysis_errors_total',
    'Rollout analyses or ticks that failed with an error (not a conflict) on this replica.',
  );
  const acquisitions = counter(
    'rollout_controller_leader_acquisitions_total',
    'Times this replica took the controller lease; across replicas, a fast rise means leadership is flapping.',
  );
  // Series exist from the start at zero, so increase() sees the first event and alerts have something to read.
  for (const to of ROLLOUT_STATES) transitions.inc({ to }, 0);
  for (const verdict of ['pass', 'fail', 'inconclusive']) gateResults.inc({ verdict }, 0);
  for (const trigger of ['manual', 'automatic']) kills.inc({ trigger }, 0);
  let leading = false;

  return {
    changed({ before, after }) {
      for (const t of after.history.slice(before?.history.length ?? 0)) transitions.inc({ to: t.to });
      for (const gate of judgedGates(before, after)) gateResults.inc({ verdict: gate.verdict });
      for (const approval of after.approvals.slice(before?.approvals.length ?? 0)) approvals.inc({ step: String(approval.step + 1) });
    },
    committed(commit) {
      for (const append of commit.appends ?? []) {
        if (append.log !== AUDIT_LOG) continue;
        const event = append.entry as AuditEvent;
        auditEvents.inc({ action: event.action });
        if (event.action === 'flag.kill') kills.inc({ trigger: killTrigger(event) });
      }
    },
    ticked(report) {
      tickDuration.observe({ role: report.leader ? 'leader' : 'follower' }, report.ms / 1000);
      analysed.inc(report.analysed);
      analysisErrors.inc(report.errors);
      if (report.leader && !leading) acquisitions.inc();
      leading = report.leader;
    },
  };
}
