import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildGoLiveReport } from '../../src/reports/go-live-report.js';
import { renderHtml } from '../../src/reports/render-html.js';
import { mdText, renderMarkdown } from '../../src/reports/render-markdown.js';
import { reportWords } from '../../src/reports/report-language.js';
import reportZhCN from '../../src/reports/report-zh-CN.js';
import { say } from '../../src/rollouts/reason-wording.js';
import { latestAnalysis } from '../../src/rollouts/status-wording.js';
import { at, MINUTE } from '../unit/decide-fixtures.js';
import { completedRollout, rolledBackRollout } from './report-fixtures.js';

/**
 * The go-live report in Simplified Chinese: headings, labels, states, verdicts and units in
 * Chinese; names, rules and the controller's free text as written (marked lang="en" in HTML); and
 * no English label left over from a text the catalog lacks.
 */

const NOW = at(60 * MINUTE);
const noAudit = { events: [], truncated: false };
const zh = reportWords('zh-CN');

describe('the go-live report in zh-CN', () => {
  it('Markdown: Chinese headings, summary labels, state, verdict words and units; names and rules as they are', () => {
    const md = renderMarkdown(buildGoLiveReport(completedRollout(), noAudit, NOW), zh);
    expect(md).toContain('# 上线报告：`production` 中的 `checkout-v2`');
    expect(md).toContain('| 策略 | `test-plan`');
    expect(md).toContain('| 状态 | **已完成** |');
    for (const heading of ['## 结果', '## 计划', '## 时间线', '## 步骤、闸门与样本量', '## 审批', '## 审计记录']) expect(md).toContain(heading);
    expect(md).toContain('### 100% 步');
    expect(md).toMatch(/\*\*通过\*\*/);
    expect(md).toContain('次请求');
    expect(md).not.toMatch(/\*\*PASS\*\*|## Timeline|### The \d+% step|\| [\d,]+ requests? \|/);
    expect(md).toContain('已完成：checkout-v2 在 production 中已达到 100%；当前正在下发 100%。');
    // What each step's evidence led to, in Chinese as well (the controller's wording, status-wording.ts).
    const led = md
      .split('\n')
      .filter((l) => l.startsWith('| 2026'))
      .map((l) => l.split(' | ')[1]!)
      .filter(Boolean);
    expect(led.length).toBeGreaterThan(1);
    expect(led.join('\n')).toMatch(/已推进到 \d+%/);
    expect(led.join('\n')).not.toMatch(/advanced to|approved by|latest analysis|completed/);
    expect(say(latestAnalysis('healthy'), zh)).toBe('最新分析（健康）');
  });

  it('HTML: <html lang="zh-CN">, Chinese labels, the breach in Chinese with its units, free text marked lang="en"', () => {
    const killSwitch = { reason: 'rollback rule breached', actor: 'rollout r-1', at: at(8 * MINUTE).toISOString() };
    const html = renderHtml(buildGoLiveReport(rolledBackRollout(), noAudit, NOW, killSwitch), zh);
    expect(html).toContain('<html lang="zh-CN">');
    expect(html).toContain('<h2>导致回滚的越限</h2>');
    expect(html).toContain('<strong>8%</strong>，基于 2,000 次请求（阈值 5%）');
    expect(html).toContain('<code>error_rate(treatment) &gt; 0.05 for 5m</code>');
    // The outcome line in Chinese too (status-wording.ts): the kill switch's reason and the rule as written.
    expect(html).toContain(
      '<p class="outcome rolled_back">已在 1% 回滚：checkout-v2 在 production 中已下发为停用（紧急开关：rollback rule breached）。' +
        '原因：error_rate(treatment) &gt; 0.05 for 5m：8%，基于 2,000 次请求（阈值 5%）。</p>',
    );
    expect(html).not.toContain('Breach that caused');
  });

  it("the controller's reasons in Chinese, worded as notifications word them; a reason recorded as text only stays as written", () => {
    const rollout = rolledBackRollout();
    const sentence = '回滚规则 error_rate(treatment) > 0.05 for 5m 被突破：error_rate 为 8%，基于 2,000 次请求';
    const md = renderMarkdown(buildGoLiveReport(rollout, noAudit, NOW), zh);
    expect(md).toContain(`| 进行中 → 已回滚 | 1% | controller | ${mdText(sentence)} |`);
    expect(md).toContain(`控制器给出的原因：${mdText(sentence)}`);
    const html = renderHtml(buildGoLiveReport(rollout, noAudit, NOW), zh);
    expect(html).toContain('控制器给出的原因：回滚规则 error_rate(treatment) &gt; 0.05 for 5m 被突破');
    expect(html).not.toContain('breached: error_rate');
    // An entry from before reasons were worded: its text, marked English.
    const older = { ...rollout, history: rollout.history.map(({ reasonWording: _w, ...t }) => t) };
    expect(renderHtml(buildGoLiveReport(older, noAudit, NOW), zh)).toContain(
      '<span lang="en">rollback rule error_rate(treatment) &gt; 0.05 for 5m breached: error_rate 8% over 2,000 requests</span>',
    );
  });

  it("the plan's sentences in Chinese too, in the dashboard's words (one catalog for the policy's wording)", () => {
    const rollout = completedRollout();
    const md = renderMarkdown(buildGoLiveReport(rollout, noAudit, NOW, undefined, zh), zh);
    const english = renderMarkdown(buildGoLiveReport(rollout, noAudit, NOW));
    expect(english).toContain('error_rate(treatment) ≤ 0.01');
    expect(md).toContain('error_rate(实验组) ≤ 0.01');
    expect(md).not.toContain('error_rate(treatment) ≤ 0.01');
  });

  it('English stays the default, word for word', () => {
    const report = buildGoLiveReport(completedRollout(), noAudit, NOW);
    expect(renderMarkdown(report, reportWords('en'))).toBe(renderMarkdown(report));
    expect(renderHtml(report)).toContain('<html lang="en">');
  });

  it('the catalog has every text the renderers look up, with the same placeholders', () => {
    const sources = ['render-markdown.ts', 'render-html.ts', 'report-format.ts'].map((f) => readFileSync(`src/reports/${f}`, 'utf8')).join('\n');
    const looked = new Set([...sources.matchAll(/\bw\(\s*(['"])((?:(?!\1).)*)\1/g)].map((m) => m[2]!));
    expect(looked.size).toBeGreaterThan(40);
    expect([...looked].filter((text) => !(text in reportZhCN))).toEqual([]);
    const names = (s: string) =>
      [...s.matchAll(/\{(\w+)\}/g)]
        .map((m) => m[1])
        .sort()
        .join();
    expect(Object.entries(reportZhCN).filter(([en, z]) => names(en) !== names(z))).toEqual([]);
  });
});
