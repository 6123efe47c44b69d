import type { GoLiveReport, StepSection } from './go-live-report.js';
import { stateWords } from './go-live-report.js';
import { counted, shownVerdict } from '../rollouts/units.js';
import { formatCheckSamples, formatSamples, formatTime, formatValue, summaryRows, VERDICT_WORDS } from './report-format.js';

/** Every value that reaches the page goes through here: text and attribute-safe. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const e = escapeHtml;

/**
 * One file that opens anywhere, offline and years later: styles inline, no scripts, no fonts or
 * images, and a policy that forbids loading anything, so a filed report never calls out.
 */
const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1b1f24;max-width:1100px;margin:2rem auto;padding:0 1rem}
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2rem;border-bottom:1px solid #d0d7de;padding-bottom:.2rem}h3{font-size:1.05rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem}th,td{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.92em}
.pass{color:#1a7f37;font-weight:600}.fail{color:#cf222e;font-weight:600}.inconclusive{color:#9a6700;font-weight:600}.not-judged{color:#57606a;font-style:italic}
.outcome{padding:.6rem .8rem;border-left:4px solid #57606a;background:#f6f8fa}.outcome.rolled_back,.breach{border-color:#cf222e;background:#fff1f0}
.outcome.completed{border-color:#1a7f37;background:#effbf1}.breach{border-left:4px solid #cf222e;padding:.2rem .8rem}
.current{font-weight:700;text-decoration:underline}footer{color:#57606a;margin-top:2rem;font-size:.85rem}
@media print{body{margin:0}}`;

function table(header: string[], rows: string[][]): string {
  return (
    `<table><thead><tr>${header.map((h) => `<th>${e(h)}</th>`).join('')}</tr></thead>` +
    `<tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('')}</tbody></table>`
  );
}

const code = (text: string) => `<code>${e(text)}</code>`;
const verdict = (v: keyof typeof VERDICT_WORDS, reason?: string) => `<span class="${v}">${VERDICT_WORDS[v]}</span>${reason ? ` ${e(reason)}` : ''}`;

function stepBlock(step: StepSection): string {
  const when = step.enteredAt
    ? `Entered ${e(formatTime(step.enteredAt))}${step.leftAt ? `, left ${e(formatTime(step.leftAt))}` : ', still current'}; ` +
      `time in step ${e(step.timeInStep ?? '')}.`
    : 'Not reached.';
  const rules =
    `Judged after at least ${e(step.minDuration)} and ${e(counted(step.minSamples, 'treatment request'))}; ` +
    `approvals to enter it: ${e(step.approvalsNeeded)}.`;
  const rows = step.evidence.flatMap((ev) =>
    ev.gates.map((g, i) => [
      i === 0 ? e(formatTime(ev.at)) : '',
      i === 0 ? e(`${ev.outcome}${ev.samples ? ` (${formatSamples(ev.samples)})` : ''}`) : '',
      code(g.rule),
      e(formatValue(g.metric, g.value)),
      e(formatValue(g.metric, g.threshold)),
      e(formatCheckSamples(g.metric, g.samples)),
      verdict(shownVerdict(g), g.reason),
    ]),
  );
  const evidence = rows.length
    ? table(['Time', 'Led to', 'Gate', 'Value', 'Threshold', 'Samples', 'Verdict'], rows)
    : step.enteredAt
      ? '<p><em>No gate evaluation recorded for this step.</em></p>'
      : '';
  return `<section><h3>The ${step.percentage}% step</h3><p>${when}</p><p>${rules}</p>${evidence}</section>`;
}

export function renderHtml(report: GoLiveReport): string {
  const s = report.summary;
  const parts: string[] = [];
  parts.push(`<h1>Go-live report: ${s.release ? `release ${code(s.release.name)}` : code(s.flag)} in ${code(s.environment)}</h1>`);
  const markup = { text: e, code, strong: (t: string) => `<strong>${t}</strong>`, current: (t: string) => `<span class="current">${e(t)}</span>` };
  parts.push(
    table(
      ['Item', 'Value'],
      summaryRows(s, markup).map(([k, v]) => [e(k), v]),
    ),
  );
  parts.push(`<h2>Outcome</h2><p class="outcome ${e(s.state)}">${e(s.outcome)}</p>`);
  if (report.breach) {
    const b = report.breach;
    parts.push(
      `<h2>Breach that caused the rollback</h2><div class="breach"><ul>` +
        `<li>${b.kind === 'gate' ? 'Gate (failed beyond doubt)' : 'Rollback rule'}: ${code(b.rule)}</li>` +
        `<li>Measured: ${e(b.metric)} of the ${e(b.cohort)} cohort was <strong>${e(formatValue(b.metric, b.value))}</strong> ` +
        `over ${e(formatCheckSamples(b.metric, b.samples))} (threshold ${e(formatValue(b.metric, b.threshold))})</li>` +
        (b.test
          ? `<li>${Math.round(b.test.confidence * 100)}% confidence bounds: ` +
            `${e(formatValue(b.metric, b.test.lower))} to ${e(formatValue(b.metric, b.test.upper))}</li>`
          : '') +
        (b.sustainedFor ? `<li>Exceeded for ${e(b.sustainedFor)}${b.requiredFor ? ` (the rule allows ${e(b.requiredFor)})` : ''}</li>` : '') +
        (b.completedAt ? `<li>During the watch after completion: the rollout had completed ${e(formatTime(b.completedAt))}</li>` : '') +
        `<li>Kill switch flipped: ${e(formatTime(b.at))}</li><li>Controller’s reason: ${e(b.reason)}</li></ul>` +
        (b.alsoFailing.length
          ? `<p>Other checks failing in the same analysis:</p>` +
            table(
              ['Check', 'Value', 'Threshold', 'Samples', 'Verdict'],
              b.alsoFailing.map((c) => [
                code(c.rule),
                e(formatValue(c.metric, c.value)),
                e(formatValue(c.metric, c.threshold)),
                e(formatCheckSamples(c.metric, c.samples)),
                verdict(shownVerdict(c)),
              ]),
            )
          : '') +
        `</div>`,
    );
  }
  const list = (items: string[]) => (items.length ? items.map(code).join('; ') : 'none');
  parts.push(
    `<h2>Plan</h2><ul><li>Gates (all must pass to leave a step): ${list(report.plan.gates)}</li>` +
      `<li>Traffic checks: ${report.plan.traffic.length ? report.plan.traffic.map(e).join('; ') : 'none'}</li>` +
      `<li>Rollback rules (any one flips the kill switch): ${list(report.plan.rollback)}</li>` +
      `<li>On a failing gate: ${e(report.plan.onGateFailure)}</li>` +
      `<li>On a breach control shares: ${e(report.plan.onSharedBreach)}</li>` +
      (report.plan.watchAfterCompletion ? `<li>After completion: ${e(report.plan.watchAfterCompletion)}</li>` : '') +
      (report.plan.windows ? `<li>Change windows: ${e(report.plan.windows)}</li>` : '') +
      (report.plan.killSwitches.length ? `<li>Also killed on rollback: ${report.plan.killSwitches.map(code).join(', ')}</li>` : '') +
      `</ul>`,
  );
  parts.push(
    `<h2>Timeline</h2>` +
      (report.timeline.length
        ? table(
            ['Time', 'Transition', 'Percentage', 'By', 'Reason'],
            report.timeline.map((t) => [e(formatTime(t.at)), e(`${stateWords(t.from)} → ${stateWords(t.to)}`), `${t.percentage}%`, e(t.actor), e(t.reason)]),
          )
        : '<p><em>No transitions yet.</em></p>'),
  );
  parts.push(`<h2>Steps, gates and sample sizes</h2>${report.steps.map(stepBlock).join('')}`);
  parts.push(
    `<h2>Approvals</h2>` +
      (report.approvals.length
        ? table(
            ['Step', 'Approved by', 'Role', 'Time', 'Comment'],
            report.approvals.map((a) => [e(`${a.percentage}%${a.ahead ? ' (ahead)' : ''}`), e(a.by), e(a.role ?? ''), e(formatTime(a.at)), e(a.comment ?? '')]),
          )
        : '<p><em>No approvals were given.</em></p>'),
  );
  parts.push(
    `<h2>Audit trail</h2><p>Events from the controller’s hash-chained audit log (<code>GET /api/admin/audit/verify</code> checks the chain).</p>` +
      (report.audit.length
        ? table(
            ['Seq', 'Time', 'Actor', 'Action', 'Target', 'Reason', 'Hash'],
            report.audit.map((a) => [String(a.seq), e(formatTime(a.at)), e(a.actor), code(a.action), e(a.target), e(a.reason ?? ''), code(a.hash)]),
          )
        : '<p><em>No audit events found.</em></p>') +
      (report.auditTruncated ? '<p><em>The audit log was read only in part; see <code>GET /api/admin/audit</code> for the rest.</em></p>' : ''),
  );
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>${e(report.title)}</title><style>${STYLE}</style></head>
<body><main>${parts.join('\n')}</main>
<footer>Generated ${e(formatTime(report.generatedAt))} by the rollout controller.</footer></body></html>
`;
}
