import type { CheckResult, Rollout, Transition } from '../../rollouts/rollout-model.js';
import type { ReplayOutcome } from './replay-rollout.js';
import type { ReplayResult } from './replay-run.js';

/** A replay run (`npm run simulate -- --replay`): what was read, under which policy, and each rollout's result. */
export interface ReplayReport {
  generatedAt: string;
  command: string;
  /** "redis (prefix rollout)" or "embedded (./data)". */
  store: string;
  /** The policy replayed, in words: "`strict` from policies/strict.yaml", or each rollout's own. */
  policy: string;
  outcomeBucketMs: number;
  results: ReplayResult[];
}

/** 750 → "750ms", 95_000 → "1m 35s", 3_780_000 → "1h 03m". */
export function elapsed(ms: number): string {
  if (ms < 1000) return ms <= 0 ? '0s' : `${Math.round(ms)}ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor(s / 60) % 60).padStart(2, '0')}m`;
}

/** How a check was judged: on users (hashed user buckets), on requests, or on its point estimate. */
function judgedOn(check: CheckResult): string {
  if (check.test?.method === 'always-valid-users') return 'judged on users';
  if (check.test?.method === 'always-valid') return 'judged on requests';
  if (check.test?.method === 'chi-squared') return 'chi-squared';
  return 'point estimate';
}

function checkText(check: CheckResult): string {
  return `${check.rule}: ${check.verdict}${check.reason ? ` (${check.reason})` : ''}, ${judgedOn(check)}`;
}

/** The deciding check(s) of an ending: the cause of a rollback, the gates that let it complete, or where the step stood. */
function why(r: Rollout, last: Transition | undefined): string {
  if (r.state === 'rolled_back' && last?.cause) return `${last.reason} (${judgedOn(last.cause)})`;
  if (r.state === 'completed' && last?.gates) return `${last.reason}; ${last.gates.map(checkText).join('; ') || 'no gates'}`;
  if (r.state === 'paused' || r.state === 'aborted') return last?.reason ?? r.state;
  const verdict = r.stepVerdict.kind === 'healthy' ? 'the step is healthy' : r.stepVerdict.reason;
  const failing = r.gates.filter((g) => g.verdict !== 'pass');
  return `${verdict}${failing.length > 0 ? `; ${failing.map(checkText).join('; ')}` : ''}`;
}

function stateText(r: Rollout): string {
  switch (r.state) {
    case 'completed':
      return 'completed';
    case 'rolled_back':
      return `rolled back at ${r.percentage} %`;
    case 'aborted':
      return `aborted (was at ${r.history.at(-1)?.percentage ?? 0} %)`;
    case 'paused':
      return `paused at ${r.percentage} %`;
    case 'awaiting_approval':
      return `awaiting approval at ${r.percentage} %`;
    default:
      return `${r.state.replace('_', ' ')} at ${r.percentage} %`;
  }
}

function replayedText(o: ReplayOutcome): string {
  if (o.divergence) return `left the recorded traffic at ${o.divergence.replayed} % (the flag served ${o.divergence.real} %)`;
  if (o.ending === 'active' || o.ending === 'paused') return `still ${stateText(o.rollout)} at the end of the recorded timeline`;
  return stateText(o.rollout);
}

function reallyText(r: Rollout): string {
  return r.state === 'completed' || r.state === 'rolled_back' || r.state === 'aborted' ? stateText(r) : `still ${stateText(r)}`;
}

function transitionText(t: Transition): string {
  return `${t.from.replace('_', ' ')} → ${t.to.replace('_', ' ')} at ${t.percentage} %: ${t.reason}`;
}

function ended(r: Rollout, at: number): string {
  return `${elapsed(at - Date.parse(r.createdAt))} after the start`;
}

function rolloutSection(result: ReplayResult): string[] {
  const policy = result.policy.name;
  const real = result.real;
  const title = `### \`${real.flag}\` in ${real.environment}: rollout \`${real.id}\``;
  const started = `Started ${real.createdAt} by ${real.startedBy.name} under \`${real.policy}\`; replayed under \`${policy}\`.`;
  if (result.kind === 'refused') return [title, '', started, '', `**Not replayed:** ${result.reason}.`, ''];
  const o = result.outcome;
  const realLast = real.history.at(-1);
  const realEnd = o.timeline.end;
  const out = [
    title,
    '',
    started,
    '',
    `| | really (\`${real.policy}\`) | under \`${policy}\` |`,
    '| --- | --- | --- |',
    `| ended | ${reallyText(real)} | ${replayedText(o)} |`,
    `| when | ${ended(real, realEnd)} | ${ended(real, o.endedAt)} |`,
    `| why | ${why(real, realLast)} | ${why(o.rollout, o.rollout.history.at(-1))} |`,
    '',
  ];
  if (o.divergence) {
    out.push(
      `The replay stops at ${elapsed(o.divergence.at - Date.parse(real.createdAt))}: this policy would have served ${o.divergence.replayed} % ` +
        `where the flag served ${o.divergence.real} %. The recorded outcomes from there are those of other users ` +
        '(with the user as the unit, scaling treatment would invent users nobody observed), so what followed is not replayed.',
      '',
    );
  }
  for (const note of o.notes) out.push(`- ${note}`);
  if (o.notes.length > 0) out.push('');
  const rows = [
    ...real.history.map((t) => ({ at: Date.parse(t.at), really: transitionText(t), replayed: '' })),
    ...o.rollout.history.map((t) => ({ at: Date.parse(t.at), really: '', replayed: transitionText(t) })),
  ].sort((a, b) => a.at - b.at || (a.really ? -1 : 1));
  out.push(`| after | really | under \`${policy}\` |`, '| ---: | --- | --- |');
  for (const row of rows) out.push(`| ${elapsed(row.at - Date.parse(real.createdAt))} | ${row.really} | ${row.replayed} |`);
  out.push('');
  return out;
}

function summaryRow(result: ReplayResult): string {
  const real = result.real;
  const replayed =
    result.kind === 'refused' ? 'not replayed' : `${replayedText(result.outcome)}, ${elapsed(result.outcome.endedAt - Date.parse(real.createdAt))}`;
  const reallyAt = result.kind === 'refused' ? '' : `, ${elapsed(result.outcome.timeline.end - Date.parse(real.createdAt))}`;
  return `| \`${real.id}\` | \`${real.flag}\` | ${real.environment} | ${real.createdAt} | ${reallyText(real)}${reallyAt} | ${replayed} |`;
}

export function renderReplayReport(report: ReplayReport): string {
  const replayed = report.results.filter((r) => r.kind === 'replayed').length;
  const out = [
    '# Replay of recorded rollouts',
    '',
    `Generated by \`${report.command}\` at ${report.generatedAt}, read-only from the ${report.store} store: ` +
      `${report.results.length} rollout(s), ${replayed} replayed; policy: ${report.policy}.`,
    '',
    "- Each rollout starts again when the real one started, under the policy; the clock steps at the policy's analysis interval and " +
      `every analysis reads the recorded outcome buckets (${report.outcomeBucketMs} ms each) as the controller's leader does, but only those ` +
      'that had ended by then (the controller also read part of the bucket in progress; the replay never reads what came later).',
    '- People did again what they did, when they did it: approvals count once the replayed rollout awaits their percentage; pauses, ' +
      'resumes, rejections and aborts at their own time. A pause the controller made (a step past its maximum duration) is the policy’s own.',
    '- The outcomes are those of the users the flag really served. While the policy serves what the flag served, they are what it would ' +
      'have seen; when it would have served another percentage for longer than an analysis interval and a bucket, the replay of that rollout stops there and says so.',
    '',
    '## Summary',
    '',
    `| rollout | flag | environment | started | really | under the policy |`,
    '| --- | --- | --- | --- | --- | --- |',
    ...report.results.map(summaryRow),
    '',
    '## Rollouts',
    '',
  ];
  for (const result of report.results) out.push(...rolloutSection(result));
  return out.join('\n');
}
