import { describe, expect, it } from 'vitest';
import { buildGoLiveReport } from '../../src/reports/go-live-report.js';
import { renderMarkdown, mdText } from '../../src/reports/render-markdown.js';
import { escapeHtml, renderHtml } from '../../src/reports/render-html.js';
import { analysis, at, bob, HEALTHY, MINUTE, rollout as baseRollout, T0 } from '../unit/decide-fixtures.js';
import type { DecisionInput } from '../../src/rollouts/rollout-model.js';
import { auditEvent, completedRollout, drive, HOSTILE_COMMENT, MALLORY, rolledBackRollout } from './report-fixtures.js';

const NOW = at(60 * MINUTE);
const noAudit = { events: [], truncated: false };

/** The table rows of a Markdown section (between its heading and the next). */
function sectionRows(md: string, heading: string): string[] {
  const section = md.split(`## ${heading}\n`)[1]!.split('\n## ')[0]!;
  return section.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| ---'));
}

/** Cells of a Markdown table row, honouring backslash-escaped pipes. */
const cells = (row: string) => row.slice(2, -2).split(/(?<!\\) \| /);

describe('go-live report of a completed rollout', () => {
  const rollout = completedRollout();
  const report = buildGoLiveReport(rollout, { events: [auditEvent(7, 'rollout.approve', HOSTILE_COMMENT)], truncated: false }, NOW);

  it('is built from a rollout that really went 1 → 10 → 50 → 100 with its Go/No-Go and three approvals', () => {
    expect(rollout.state).toBe('completed');
    expect(report.approvals.map((a) => [a.by, a.percentage])).toEqual([
      ['Carol', 1],
      ['Bob', 10],
      ['Carol', 50],
      ['Bob', 100],
    ]);
    expect(report.summary.duration).toBe('47m');
  });

  it('Markdown: summary, every approval with who, role, when and comment, escaped', () => {
    const md = renderMarkdown(report);
    expect(md).toContain('# Go-live report: `checkout-v2` in `production`');
    expect(md).toContain('| Policy | `test-plan` |');
    expect(md).toContain('Completed: checkout-v2 reached 100% in production; now serving 100%.');
    const approvals = sectionRows(md, 'Approvals').slice(1);
    expect(approvals).toHaveLength(4);
    // The hostile comment's pipe is escaped: the row still has exactly five cells.
    expect(approvals.map(cells).map((c) => c.length)).toEqual([5, 5, 5, 5]);
    // Steps are named by their percentage.
    expect(cells(approvals[1]!)).toEqual(['10%', 'Bob', 'release-manager', '2026-03-02 12:12:00 UTC', mdText(HOSTILE_COMMENT)]);
    expect(cells(approvals[2]!)[4]).toBe('error rate flat');
    expect(md).not.toContain('<script>');
    expect(md).not.toContain('[link](');
    expect(md).toContain('\\<script\\>');
    // The starter's name is markup too.
    expect(md).toContain('| Started by | \\<img src=x onerror=alert(1)\\> (editor) |');
  });

  it('Markdown: each step’s gates with value, threshold, samples and verdict', () => {
    const md = renderMarkdown(report);
    const step1 = md.split('### The 1% step')[1]!.split('### The 10% step')[0]!;
    expect(step1).toContain('Entered 2026-03-02 12:00:00 UTC, left 2026-03-02 12:12:00 UTC');
    const rows = step1.split('\n').filter((l) => l.startsWith('| 2026'));
    // Evidence at 12:11 (awaiting approval) and 12:12 (advanced with the approval): gates judged on step 1.
    expect(rows.map((r) => cells(r).slice(1, 2)[0])).toEqual([
      'awaiting approval (treatment 2,000 requests, control 20,000 requests)',
      'advanced to 10%, approved by Bob',
    ]);
    // Every number carries its unit: error rates as percentages, samples as requests.
    expect(cells(rows[0]!).slice(2)).toEqual(['`error_rate(treatment) <= 0.01`', '0.2%', '1%', '2,000 requests', '**PASS**']);
    expect(md).toContain('### The 100% step');
    expect(md.split('### The 100% step')[1]).toContain('completed (treatment 2,000 requests, control 20,000 requests)');
  });

  it('HTML: self-contained, everything escaped, approvals and gates in tables', () => {
    const html = renderHtml(report);
    expect(html.startsWith('<!doctype html>')).toBe(true);
    // Nothing is loaded from anywhere: no scripts, links, images, external URLs or fonts.
    expect(html).not.toMatch(/<script|<link|<img|<iframe|<[^>]*\b(src|href)=|url\(|@import/i);
    expect(html).toContain(`default-src 'none'`);
    expect(html).toContain(escapeHtml(HOSTILE_COMMENT));
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt; (editor)');
    expect(html).toMatch(/<td>Carol<\/td><td>release-manager<\/td><td>2026-03-02 12:24:00 UTC<\/td><td>error rate flat<\/td>/);
    expect(html).toContain(
      '<td><code>error_rate(treatment) &lt;= 0.01</code></td><td>0.2%</td><td>1%</td><td>2,000 requests</td><td><span class="pass">PASS</span></td>',
    );
    // The audit event's hostile reason is escaped too.
    expect(html).toContain('<td><code>rollout.approve</code></td>');
    expect(html.match(/<script/g)).toBeNull();
  });
});

describe('go-live report of a rolled-back rollout', () => {
  const rollout = rolledBackRollout();
  const killSwitch = { reason: 'rollback rule breached', actor: 'rollout r-1', at: at(8 * MINUTE).toISOString() };
  const report = buildGoLiveReport(rollout, noAudit, NOW, killSwitch);

  it('names the breach that caused it: rule, value, threshold, samples and how long it lasted', () => {
    expect(rollout.state).toBe('rolled_back');
    expect(report.breach).toMatchObject({
      kind: 'rollback-rule',
      rule: 'error_rate(treatment) > 0.05 for 5m',
      value: 0.08,
      threshold: 0.05,
      samples: 2000,
      sustainedFor: '6m',
      requiredFor: '5m',
    });
    const md = renderMarkdown(report);
    const breach = md.split('## Breach that caused the rollback\n')[1]!.split('\n## ')[0]!;
    expect(breach).toContain('- Rollback rule: `error_rate(treatment) > 0.05 for 5m`');
    expect(breach).toContain('was **8%** over 2,000 requests (threshold 5%)');
    expect(breach).not.toContain('unknown');
    expect(breach).toContain('- Exceeded for 6m (the rule allows 5m)');
    expect(breach).toContain('- Kill switch flipped: 2026-03-02 12:08:00 UTC');
    expect(md).toContain(
      mdText(
        'Rolled back at 1%: checkout-v2 is served disabled (kill switch: rollback rule breached) in production. Cause: error_rate(treatment) > 0.05 for 5m: 8% over 2,000 requests (threshold 5%).',
      ),
    );
    const html = renderHtml(report);
    expect(html).toContain('<h2>Breach that caused the rollback</h2>');
    expect(html).toContain('<strong>8%</strong> over 2,000 requests (threshold 5%)');
    expect(html).toContain('class="outcome rolled_back"');
  });

  it('a completed rollout has no breach section', () => {
    const md = renderMarkdown(buildGoLiveReport(completedRollout(), noAudit, NOW));
    expect(md).not.toContain('Breach');
  });
});

describe('go-live report of a rollout still in progress', () => {
  it('says what it waits for and shows the latest analysis of the current step', () => {
    const pending = baseRollout({ state: 'pending', percentage: 0, stepVerdict: { kind: 'waiting', reason: 'not started' } });
    const go: DecisionInput = { kind: 'approve', by: bob, step: 1 };
    const awaiting = drive(pending, [
      [analysis(HEALTHY), T0],
      [go, T0],
      [analysis(HEALTHY), at(11 * MINUTE)],
      [analysis(HEALTHY), at(12 * MINUTE)],
    ]);
    expect(awaiting.state).toBe('awaiting_approval');
    const report = buildGoLiveReport(awaiting, noAudit, at(15 * MINUTE));
    expect(report.summary.duration).toBe('15m so far');
    const md = renderMarkdown(report);
    expect(md).toContain('awaiting approval, serving 1%; waiting for approval for 10%: 0 of 1 (release-manager).');
    expect(md).toContain('| Ended | not yet |');
    const step1 = md.split('### The 1% step')[1]!.split('### The 10% step')[0]!;
    expect(step1).toContain('Entered 2026-03-02 12:00:00 UTC, still current; time in step 15m.');
    expect(step1).toContain('approvals to enter it: 1 (release-manager), the Go/No-Go');
    expect(
      step1
        .split('\n')
        .filter((l) => l.startsWith('| 2026'))
        .map((r) => cells(r)[1]),
    ).toEqual(['awaiting approval (treatment 2,000 requests, control 20,000 requests)', 'latest analysis (healthy)']);
    expect(md.split('### The 10% step')[1]).toMatch(
      /^\n\nNot reached\.\nJudged after at least 10m and 1,000 treatment requests; approvals to enter it: 1 \(release-manager\)\.\n\n### The 50% step/,
    );
  });
});

describe('escaping', () => {
  it('Markdown text cannot open markup, links, HTML or table cells, nor break a line', () => {
    expect(mdText('a|b *c* _d_ [e](f) <g> `h` &amp; \\ ~i~ ![j]\nk')).toBe(
      'a\\|b \\*c\\* \\_d\\_ \\[e\\](f) \\<g\\> \\`h\\` \\&amp; \\\\ \\~i\\~ \\!\\[j\\] k',
    );
  });

  it('HTML escapes the five characters that matter in text and attributes', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
  });

  it('a hostile person name never reaches the HTML as markup', () => {
    const html = renderHtml(buildGoLiveReport(completedRollout(), noAudit, NOW));
    expect(html).not.toContain(MALLORY.name);
  });
});
