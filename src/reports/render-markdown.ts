import type { GoLiveReport, StepSection } from './go-live-report.js';
import { stateWords } from './go-live-report.js';
import { reasonIn } from '../rollouts/reason-wording.js';
import { counted, shownVerdict } from '../rollouts/units.js';
import { formatCheckSamples, formatSamples, formatTime, formatValue, summaryRows, verdictWord } from './report-format.js';
import { reportWords, unitsIn, type Words } from './report-language.js';

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

function stepBlock(step: StepSection, w: Words): string {
  const lines = [`### ${w('The {pct}% step', { pct: step.percentage })}`, ''];
  lines.push(
    step.enteredAt
      ? w('Entered {at}', { at: formatTime(step.enteredAt) }) +
          (step.leftAt ? w(', left {at}', { at: formatTime(step.leftAt) }) : w(', still current')) +
          w('; time in step {time}.', { time: step.timeInStep ?? '' })
      : w('Not reached.'),
  );
  lines.push(
    w('Judged after at least {duration} and {samples}; approvals to enter it: {approvals}.', {
      duration: step.minDuration,
      samples: unitsIn(w, counted(step.minSamples, 'treatment request')),
      approvals: mdText(step.approvalsNeeded),
    }),
    '',
  );
  if (step.evidence.length === 0) {
    if (step.enteredAt) lines.push(`_${w('No gate evaluation recorded for this step.')}_`);
    return lines.join('\n').trimEnd();
  }
  const rows = step.evidence.flatMap((e) =>
    e.gates.map((g, i) => [
      i === 0 ? formatTime(e.at) : '',
      i === 0 ? mdText(`${reasonIn({ reason: e.outcome, reasonWording: e.outcomeWording }, w)}${e.samples ? ` (${formatSamples(e.samples, w)})` : ''}`) : '',
      code(g.rule),
      unitsIn(w, formatValue(g.metric, g.value)),
      unitsIn(w, formatValue(g.metric, g.threshold)),
      unitsIn(w, formatCheckSamples(g.metric, g.samples)),
      `**${verdictWord(shownVerdict(g), w)}**${g.reason ? ` ${mdText(reasonIn({ reason: g.reason, reasonWording: g.reasonWording }, w))}` : ''}`,
    ]),
  );
  lines.push(
    table(
      ['Time', 'Led to', 'Gate', 'Value', 'Threshold', 'Samples', 'Verdict'].map((h) => w(h)),
      rows,
    ),
  );
  return lines.join('\n');
}

export function renderMarkdown(report: GoLiveReport, w: Words = reportWords()): string {
  const s = report.summary;
  const out: string[] = [];
  const head = (labels: string[]) => labels.map((h) => w(h));
  const none = w('none');
  const subject = s.release ? w('release {name}', { name: code(s.release.name) }) : code(s.flag);
  out.push(`# ${w('Go-live report: {subject} in {env}', { subject, env: code(s.environment) })}`, '');
  const markup = { text: mdText, code, strong: (t: string) => `**${t}**`, current: (t: string) => `**${t}**` };
  out.push(table(head(['Item', 'Value']), summaryRows(s, markup, w)), '');
  out.push(`## ${w('Outcome')}`, '', mdText(reasonIn({ reason: s.outcome, reasonWording: s.outcomeWording }, w)), '');
  if (report.breach) {
    const b = report.breach;
    const value = (v: number | null | undefined) => unitsIn(w, formatValue(b.metric, v));
    out.push(`## ${w('Breach that caused the rollback')}`, '');
    out.push(`- ${b.kind === 'gate' ? w('Gate (failed beyond doubt)') : w('Rollback rule')}: ${code(b.rule)}`);
    out.push(
      `- ${w('Measured: {metric} of the {cohort} cohort was {value} over {samples} (threshold {threshold})', {
        metric: b.metric,
        cohort: w(b.cohort),
        value: `**${value(b.value)}**`,
        samples: unitsIn(w, formatCheckSamples(b.metric, b.samples)),
        threshold: value(b.threshold),
      })}`,
    );
    if (b.test)
      out.push(
        `- ${w('{pct}% confidence bounds: {lower} to {upper}', { pct: Math.round(b.test.confidence * 100), lower: value(b.test.lower), upper: value(b.test.upper) })}`,
      );
    if (b.sustainedFor)
      out.push(`- ${w('Exceeded for {time}', { time: b.sustainedFor })}${b.requiredFor ? w(' (the rule allows {time})', { time: b.requiredFor }) : ''}`);
    if (b.completedAt) out.push(`- ${w('During the watch after completion: the rollout had completed {at}', { at: formatTime(b.completedAt) })}`);
    out.push(
      `- ${w('Kill switch flipped: {at}', { at: formatTime(b.at) })}`,
      `- ${w("Controller's reason: {reason}", { reason: mdText(reasonIn(b, w)) })}`,
      '',
    );
    if (b.alsoFailing.length) {
      out.push(w('Other checks failing in the same analysis:'), '');
      out.push(
        table(
          head(['Check', 'Value', 'Threshold', 'Samples', 'Verdict']),
          b.alsoFailing.map((c) => [
            code(c.rule),
            unitsIn(w, formatValue(c.metric, c.value)),
            unitsIn(w, formatValue(c.metric, c.threshold)),
            unitsIn(w, formatCheckSamples(c.metric, c.samples)),
            `**${verdictWord(shownVerdict(c), w)}**`,
          ]),
        ),
        '',
      );
    }
  }
  const plan = report.plan;
  out.push(`## ${w('Plan')}`, '');
  out.push(`- ${w('Gates (all must pass to leave a step)')}: ${plan.gates.length ? plan.gates.map(code).join('; ') : none}`);
  out.push(`- ${w('Traffic checks')}: ${plan.traffic.length ? plan.traffic.map(mdText).join('; ') : none}`);
  out.push(`- ${w('Rollback rules (any one flips the kill switch)')}: ${plan.rollback.length ? plan.rollback.map(code).join('; ') : none}`);
  out.push(`- ${w('On a failing gate')}: ${mdText(plan.onGateFailure)}`);
  out.push(`- ${w('On a breach control shares')}: ${mdText(plan.onSharedBreach)}`);
  if (plan.watchAfterCompletion) out.push(`- ${w('After completion')}: ${mdText(plan.watchAfterCompletion)}`);
  if (plan.windows) out.push(`- ${w('Change windows')}: ${mdText(plan.windows)}`);
  if (plan.killSwitches.length) out.push(`- ${w('Also killed on rollback')}: ${plan.killSwitches.map(code).join(', ')}`);
  out.push('', `## ${w('Timeline')}`, '');
  out.push(
    report.timeline.length
      ? table(
          head(['Time', 'Transition', 'Percentage', 'By', 'Reason']),
          report.timeline.map((t) => [
            formatTime(t.at),
            `${w(stateWords(t.from))} → ${w(stateWords(t.to))}`,
            `${t.percentage}%`,
            mdText(t.actor),
            mdText(reasonIn(t, w)),
          ]),
        )
      : `_${w('No transitions yet.')}_`,
    '',
  );
  out.push(`## ${w('Steps, gates and sample sizes')}`, '');
  for (const step of report.steps) out.push(stepBlock(step, w), '');
  out.push(`## ${w('Approvals')}`, '');
  out.push(
    report.approvals.length
      ? table(
          head(['Step', 'Approved by', 'Role', 'Time', 'Comment']),
          report.approvals.map((a) => [
            `${a.percentage}%${a.ahead ? w(' (ahead)') : ''}`,
            mdText(a.by),
            a.role ?? '',
            formatTime(a.at),
            a.comment ? mdText(a.comment) : '',
          ]),
        )
      : `_${w('No approvals were given.')}_`,
    '',
  );
  out.push(`## ${w('Audit trail')}`, '');
  out.push(w('Events from the controller’s hash-chained audit log ({verify} checks the chain).', { verify: '`GET /api/admin/audit/verify`' }), '');
  out.push(
    report.audit.length
      ? table(
          head(['Seq', 'Time', 'Actor', 'Action', 'Target', 'Reason', 'Hash']),
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
      : `_${w('No audit events found.')}_`,
  );
  if (report.auditTruncated) out.push('', `_${w('The audit log was read only in part; see {audit} for the rest.', { audit: '`GET /api/admin/audit`' })}_`);
  out.push('', `_${w('Generated {at} by the rollout controller.', { at: formatTime(report.generatedAt) })}_`, '');
  return out.join('\n');
}
