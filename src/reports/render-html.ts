import type { GoLiveReport, StepSection } from './go-live-report.js';
import { stateWords } from './go-live-report.js';
import { reasonIn, type Wording } from '../rollouts/reason-wording.js';
import { counted, shownVerdict } from '../rollouts/units.js';
import { formatCheckSamples, formatSamples, formatTime, formatValue, summaryRows, VERDICT_WORDS, verdictWord } from './report-format.js';
import { reportWords, unitsIn, type Words } from './report-language.js';

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
const verdict = (w: Words, v: keyof typeof VERDICT_WORDS, check: { reason?: string; reasonWording?: Wording } = {}) =>
  `<span class="${v}">${e(verdictWord(v, w))}</span>${check.reason ? ` ${reasonHtml(w, { reason: check.reason, reasonWording: check.reasonWording })}` : ''}`;

/** Free text the controller or a person wrote: as written, marked English on a report in another language. */
const english = (w: Words, text: string) => (w.lang === 'en' ? e(text) : `<span lang="en">${e(text)}</span>`);

/** A reason the controller worded, in the report's language; an older one, kept as text only, as written. */
const reasonHtml = (w: Words, r: { reason: string; reasonWording?: Wording }) => (r.reasonWording ? e(reasonIn(r, w)) : english(w, r.reason));

function stepBlock(step: StepSection, w: Words): string {
  const when = step.enteredAt
    ? e(w('Entered {at}', { at: formatTime(step.enteredAt) })) +
      e(step.leftAt ? w(', left {at}', { at: formatTime(step.leftAt) }) : w(', still current')) +
      e(w('; time in step {time}.', { time: step.timeInStep ?? '' }))
    : e(w('Not reached.'));
  const rules = e(
    w('Judged after at least {duration} and {samples}; approvals to enter it: {approvals}.', {
      duration: step.minDuration,
      samples: unitsIn(w, counted(step.minSamples, 'treatment request')),
      approvals: step.approvalsNeeded,
    }),
  );
  const rows = step.evidence.flatMap((ev) =>
    ev.gates.map((g, i) => [
      i === 0 ? e(formatTime(ev.at)) : '',
      i === 0 ? reasonHtml(w, { reason: ev.outcome, reasonWording: ev.outcomeWording }) + (ev.samples ? e(` (${formatSamples(ev.samples, w)})`) : '') : '',
      code(g.rule),
      e(unitsIn(w, formatValue(g.metric, g.value))),
      e(unitsIn(w, formatValue(g.metric, g.threshold))),
      e(unitsIn(w, formatCheckSamples(g.metric, g.samples))),
      verdict(w, shownVerdict(g), g),
    ]),
  );
  const evidence = rows.length
    ? table(
        ['Time', 'Led to', 'Gate', 'Value', 'Threshold', 'Samples', 'Verdict'].map((h) => w(h)),
        rows,
      )
    : step.enteredAt
      ? `<p><em>${e(w('No gate evaluation recorded for this step.'))}</em></p>`
      : '';
  return `<section><h3>${e(w('The {pct}% step', { pct: step.percentage }))}</h3><p>${when}</p><p>${rules}</p>${evidence}</section>`;
}

function breachSection(b: NonNullable<GoLiveReport['breach']>, w: Words): string {
  const value = (v: number | null | undefined) => e(unitsIn(w, formatValue(b.metric, v)));
  const measured = w('Measured: {metric} of the {cohort} cohort was {value} over {samples} (threshold {threshold})', {
    metric: e(b.metric),
    cohort: e(w(b.cohort)),
    value: `<strong>${value(b.value)}</strong>`,
    samples: e(unitsIn(w, formatCheckSamples(b.metric, b.samples))),
    threshold: value(b.threshold),
  });
  return (
    `<h2>${e(w('Breach that caused the rollback'))}</h2><div class="breach"><ul>` +
    `<li>${e(b.kind === 'gate' ? w('Gate (failed beyond doubt)') : w('Rollback rule'))}: ${code(b.rule)}</li>` +
    `<li>${measured}</li>` +
    (b.test
      ? `<li>${e(w('{pct}% confidence bounds: {lower} to {upper}', { pct: Math.round(b.test.confidence * 100), lower: unitsIn(w, formatValue(b.metric, b.test.lower)), upper: unitsIn(w, formatValue(b.metric, b.test.upper)) }))}</li>`
      : '') +
    (b.sustainedFor
      ? `<li>${e(w('Exceeded for {time}', { time: b.sustainedFor }))}${b.requiredFor ? e(w(' (the rule allows {time})', { time: b.requiredFor })) : ''}</li>`
      : '') +
    (b.completedAt ? `<li>${e(w('During the watch after completion: the rollout had completed {at}', { at: formatTime(b.completedAt) }))}</li>` : '') +
    `<li>${e(w('Kill switch flipped: {at}', { at: formatTime(b.at) }))}</li><li>${e(w('Controller’s reason: {reason}', { reason: '' }))}${reasonHtml(w, b)}</li></ul>` +
    (b.alsoFailing.length
      ? `<p>${e(w('Other checks failing in the same analysis:'))}</p>` +
        table(
          ['Check', 'Value', 'Threshold', 'Samples', 'Verdict'].map((h) => w(h)),
          b.alsoFailing.map((c) => [
            code(c.rule),
            e(unitsIn(w, formatValue(c.metric, c.value))),
            e(unitsIn(w, formatValue(c.metric, c.threshold))),
            e(unitsIn(w, formatCheckSamples(c.metric, c.samples))),
            verdict(w, shownVerdict(c)),
          ]),
        )
      : '') +
    `</div>`
  );
}

/** The plan's sentences are in the report's language already (buildGoLiveReport's words): not marked English. */
function planSection(plan: GoLiveReport['plan'], w: Words): string {
  const none = e(w('none'));
  const list = (items: string[]) => (items.length ? items.map(code).join('; ') : none);
  const item = (label: string, value: string) => `<li>${e(w(label))}: ${value}</li>`;
  return (
    `<h2>${e(w('Plan'))}</h2><ul>` +
    item('Gates (all must pass to leave a step)', list(plan.gates)) +
    item('Traffic checks', plan.traffic.length ? plan.traffic.map((t) => e(t)).join('; ') : none) +
    item('Rollback rules (any one flips the kill switch)', list(plan.rollback)) +
    item('On a failing gate', e(plan.onGateFailure)) +
    item('On a breach control shares', e(plan.onSharedBreach)) +
    (plan.watchAfterCompletion ? item('After completion', e(plan.watchAfterCompletion)) : '') +
    (plan.windows ? item('Change windows', e(plan.windows)) : '') +
    (plan.killSwitches.length ? item('Also killed on rollback', plan.killSwitches.map(code).join(', ')) : '') +
    `</ul>`
  );
}

export function renderHtml(report: GoLiveReport, w: Words = reportWords()): string {
  const s = report.summary;
  const parts: string[] = [];
  const head = (labels: string[]) => labels.map((h) => w(h));
  const subject = s.release ? w('release {name}', { name: code(s.release.name) }) : code(s.flag);
  parts.push(`<h1>${w('Go-live report: {subject} in {env}', { subject, env: code(s.environment) })}</h1>`);
  const markup = { text: e, code, strong: (t: string) => `<strong>${t}</strong>`, current: (t: string) => `<span class="current">${e(t)}</span>` };
  parts.push(
    table(
      head(['Item', 'Value']),
      summaryRows(s, markup, w).map(([k, v]) => [e(k), v]),
    ),
  );
  parts.push(`<h2>${e(w('Outcome'))}</h2><p class="outcome ${e(s.state)}">${reasonHtml(w, { reason: s.outcome, reasonWording: s.outcomeWording })}</p>`);
  if (report.breach) parts.push(breachSection(report.breach, w));
  parts.push(planSection(report.plan, w));
  parts.push(
    `<h2>${e(w('Timeline'))}</h2>` +
      (report.timeline.length
        ? table(
            head(['Time', 'Transition', 'Percentage', 'By', 'Reason']),
            report.timeline.map((t) => [
              e(formatTime(t.at)),
              e(`${w(stateWords(t.from))} → ${w(stateWords(t.to))}`),
              `${t.percentage}%`,
              e(t.actor),
              reasonHtml(w, t),
            ]),
          )
        : `<p><em>${e(w('No transitions yet.'))}</em></p>`),
  );
  parts.push(`<h2>${e(w('Steps, gates and sample sizes'))}</h2>${report.steps.map((step) => stepBlock(step, w)).join('')}`);
  parts.push(
    `<h2>${e(w('Approvals'))}</h2>` +
      (report.approvals.length
        ? table(
            head(['Step', 'Approved by', 'Role', 'Time', 'Comment']),
            report.approvals.map((a) => [
              e(`${a.percentage}%${a.ahead ? w(' (ahead)') : ''}`),
              e(a.by),
              e(a.role ?? ''),
              e(formatTime(a.at)),
              e(a.comment ?? ''),
            ]),
          )
        : `<p><em>${e(w('No approvals were given.'))}</em></p>`),
  );
  parts.push(
    `<h2>${e(w('Audit trail'))}</h2><p>${w('Events from the controller’s hash-chained audit log ({verify} checks the chain).', { verify: '<code>GET /api/admin/audit/verify</code>' })}</p>` +
      (report.audit.length
        ? table(
            head(['Seq', 'Time', 'Actor', 'Action', 'Target', 'Reason', 'Hash']),
            report.audit.map((a) => [String(a.seq), e(formatTime(a.at)), e(a.actor), code(a.action), e(a.target), english(w, a.reason ?? ''), code(a.hash)]),
          )
        : `<p><em>${e(w('No audit events found.'))}</em></p>`) +
      (report.auditTruncated
        ? `<p><em>${w('The audit log was read only in part; see {audit} for the rest.', { audit: '<code>GET /api/admin/audit</code>' })}</em></p>`
        : ''),
  );
  return `<!doctype html>
<html lang="${w.lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>${e(report.title)}</title><style>${STYLE}</style></head>
<body><main>${parts.join('\n')}</main>
<footer>${e(w('Generated {at} by the rollout controller.', { at: formatTime(report.generatedAt) }))}</footer></body></html>
`;
}
