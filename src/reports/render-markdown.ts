import type { GoLiveReport, StepSection } from './go-live-report.js';
import { stateWords } from './go-live-report.js';
import { counted, shownVerdict } from '../rollouts/units.js';
import { formatCheckSamples, formatSamples, formatTime, formatValue, summaryRows, VERDICT_WORDS } from './report-format.js';

/**
 * Free text (comments, reasons, names people typed) as inert Markdown: every character that could
 * open markup, a link, raw HTML or a table cell is backslash-escaped, and line breaks are folded, so
 * a comment can neither reshape the report nor smuggle a link or script into a rendered copy.
 */
export function mdText(text: string): string {
  return text.replace(/\r?\n|\r/g, ' ').replace(/[\\`*_[\]<>|~&!#]/g, (c) => `\\${c}`);
}

/** Identifiers and rules as code; anything with a backtick falls back to escaped text. */
function code(text: string): string {
  return text.includes('`') || /[\r\n]/.test(text) ? mdText(text) : `\`${text.replace(/\|/g, '\\|')}\``;
}

function table(header: string[], rows: string[][]): string {
  return [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

function stepBlock(step: StepSection): string {
  const lines = [`### The ${step.percentage}% step`, ''];
  lines.push(
    step.enteredAt
      ? `Entered ${formatTime(step.enteredAt)}${step.leftAt ? `, left ${formatTime(step.leftAt)}` : ', still current'}; time in step ${step.timeInStep}.`
      : 'Not reached.',
  );
  lines.push(
    `Judged after at least ${step.minDuration} and ${counted(step.minSamples, 'treatment request')}; approvals to enter it: ${mdText(step.approvalsNeeded)}.`,
    '',
  );
  if (step.evidence.length === 0) {
    if (step.enteredAt) lines.push('_No gate evaluation recorded for this step._');
    return lines.join('\n').trimEnd();
  }
  const rows = step.evidence.flatMap((e) =>
    e.gates.map((g, i) => [
      i === 0 ? formatTime(e.at) : '',
      i === 0 ? mdText(`${e.outcome}${e.samples ? ` (${formatSamples(e.samples)})` : ''}`) : '',
      code(g.rule),
      formatValue(g.metric, g.value),
      formatValue(g.metric, g.threshold),
      formatCheckSamples(g.metric, g.samples),
      `**${VERDICT_WORDS[shownVerdict(g)]}**${g.reason ? ` ${mdText(g.reason)}` : ''}`,
    ]),
  );
  lines.push(table(['Time', 'Led to', 'Gate', 'Value', 'Threshold', 'Samples', 'Verdict'], rows));
  return lines.join('\n');
}

export function renderMarkdown(report: GoLiveReport): string {
  const s = report.summary;
  const out: string[] = [];
  out.push(`# Go-live report: ${s.release ? `release ${code(s.release.name)}` : code(s.flag)} in ${code(s.environment)}`, '');
  const markup = { text: mdText, code, strong: (t: string) => `**${t}**`, current: (t: string) => `**${t}**` };
  out.push(table(['Item', 'Value'], summaryRows(s, markup)), '');
  out.push('## Outcome', '', mdText(s.outcome), '');
  if (report.breach) {
    const b = report.breach;
    out.push('## Breach that caused the rollback', '');
    out.push(`- ${b.kind === 'gate' ? 'Gate (failed beyond doubt)' : 'Rollback rule'}: ${code(b.rule)}`);
    out.push(
      `- Measured: ${b.metric} of the ${b.cohort} cohort was **${formatValue(b.metric, b.value)}** ` +
        `over ${formatCheckSamples(b.metric, b.samples)} (threshold ${formatValue(b.metric, b.threshold)})`,
    );
    if (b.test)
      out.push(`- ${Math.round(b.test.confidence * 100)}% confidence bounds: ${formatValue(b.metric, b.test.lower)} to ${formatValue(b.metric, b.test.upper)}`);
    if (b.sustainedFor) out.push(`- Exceeded for ${b.sustainedFor}${b.requiredFor ? ` (the rule allows ${b.requiredFor})` : ''}`);
    if (b.completedAt) out.push(`- During the watch after completion: the rollout had completed ${formatTime(b.completedAt)}`);
    out.push(`- Kill switch flipped: ${formatTime(b.at)}`, `- Controller's reason: ${mdText(b.reason)}`, '');
    if (b.alsoFailing.length) {
      out.push('Other checks failing in the same analysis:', '');
      out.push(
        table(
          ['Check', 'Value', 'Threshold', 'Samples', 'Verdict'],
          b.alsoFailing.map((c) => [
            code(c.rule),
            formatValue(c.metric, c.value),
            formatValue(c.metric, c.threshold),
            formatCheckSamples(c.metric, c.samples),
            `**${VERDICT_WORDS[shownVerdict(c)]}**`,
          ]),
        ),
        '',
      );
    }
  }
  out.push('## Plan', '');
  out.push(`- Gates (all must pass to leave a step): ${report.plan.gates.length ? report.plan.gates.map(code).join('; ') : 'none'}`);
  out.push(`- Traffic checks: ${report.plan.traffic.length ? report.plan.traffic.map(mdText).join('; ') : 'none'}`);
  out.push(`- Rollback rules (any one flips the kill switch): ${report.plan.rollback.length ? report.plan.rollback.map(code).join('; ') : 'none'}`);
  out.push(`- On a failing gate: ${mdText(report.plan.onGateFailure)}`);
  out.push(`- On a breach control shares: ${mdText(report.plan.onSharedBreach)}`);
  if (report.plan.watchAfterCompletion) out.push(`- After completion: ${mdText(report.plan.watchAfterCompletion)}`);
  if (report.plan.windows) out.push(`- Change windows: ${mdText(report.plan.windows)}`);
  if (report.plan.killSwitches.length) out.push(`- Also killed on rollback: ${report.plan.killSwitches.map(code).join(', ')}`);
  out.push('', '## Timeline', '');
  out.push(
    report.timeline.length
      ? table(
          ['Time', 'Transition', 'Percentage', 'By', 'Reason'],
          report.timeline.map((t) => [formatTime(t.at), `${stateWords(t.from)} → ${stateWords(t.to)}`, `${t.percentage}%`, mdText(t.actor), mdText(t.reason)]),
        )
      : '_No transitions yet._',
    '',
  );
  out.push('## Steps, gates and sample sizes', '');
  for (const step of report.steps) out.push(stepBlock(step), '');
  out.push('## Approvals', '');
  out.push(
    report.approvals.length
      ? table(
          ['Step', 'Approved by', 'Role', 'Time', 'Comment'],
          report.approvals.map((a) => [
            `${a.percentage}%${a.ahead ? ' (ahead)' : ''}`,
            mdText(a.by),
            a.role ?? '',
            formatTime(a.at),
            a.comment ? mdText(a.comment) : '',
          ]),
        )
      : '_No approvals were given._',
    '',
  );
  out.push('## Audit trail', '');
  out.push('Events from the controller’s hash-chained audit log (`GET /api/admin/audit/verify` checks the chain).', '');
  out.push(
    report.audit.length
      ? table(
          ['Seq', 'Time', 'Actor', 'Action', 'Target', 'Reason', 'Hash'],
          report.audit.map((e) => [
            String(e.seq),
            formatTime(e.at),
            mdText(e.actor),
            code(e.action),
            mdText(e.target),
            e.reason ? mdText(e.reason) : '',
            code(e.hash),
          ]),
        )
      : '_No audit events found._',
  );
  if (report.auditTruncated) out.push('', '_The audit log was read only in part; see `GET /api/admin/audit` for the rest._');
  out.push('', `_Generated ${formatTime(report.generatedAt)} by the rollout controller._`, '');
  return out.join('\n');
}
