import { describe, expect, it } from 'vitest';
import { buildGoLiveReport } from '../../src/reports/go-live-report.js';
import { renderHtml } from '../../src/reports/render-html.js';
import { renderMarkdown } from '../../src/reports/render-markdown.js';
import type { DecisionInput } from '../../src/rollouts/rollout-model.js';
import { analysis, at, BREACHING, HEALTHY, HOUR, iso, MINUTE, noApprovalPolicy, onStep, rollout } from '../unit/decide-fixtures.js';
import { completedRollout, drive } from './report-fixtures.js';

/**
 * The go-live report of a rollout rolled back during its watch after completion, and the plan's
 * attribution and watch settings, in both renderings.
 */

const noAudit = { events: [], truncated: false };

/** 1 → 10 → 50 → 100 %, healthy, completed at 44m with a 2h watch; a breach from 1h44m, sustained for 5m, kills it. */
function rolledBackWhileWatching() {
  const pending = rollout({ state: 'pending', percentage: 0, plan: noApprovalPolicy({ watchAfterCompletion: '2h' }) });
  return drive(pending, [
    ...[0, 11, 22, 33, 44].map((m): [DecisionInput, Date] => [analysis(HEALTHY), at(m * MINUTE)]),
    [analysis(BREACHING), at(44 * MINUTE + HOUR)],
    [analysis(BREACHING), at(49 * MINUTE + HOUR)],
  ]);
}

describe('go-live report of a rollout rolled back during its watch after completion', () => {
  const rollout = rolledBackWhileWatching();
  const report = buildGoLiveReport(rollout, noAudit, at(3 * HOUR));

  it('the timeline has the completion and then completed → rolled back, the breach says when it had completed', () => {
    expect(rollout.state).toBe('rolled_back');
    expect(report.timeline.map((t) => [t.from, t.to, t.percentage])).toEqual([
      ['pending', 'running', 1],
      ['running', 'running', 10],
      ['running', 'running', 50],
      ['running', 'running', 100],
      ['running', 'completed', 100],
      ['completed', 'rolled_back', 100],
    ]);
    expect(report.breach).toMatchObject({
      at: iso(49 * MINUTE + HOUR),
      kind: 'rollback-rule',
      rule: 'error_rate(treatment) > 0.05 for 5m',
      completedAt: iso(44 * MINUTE),
      sustainedFor: '5m',
    });
    expect(report.summary.outcome).toMatch(/^Rolled back at 100% during the watch after completion \(completed 2026-03-02T12:44:00\.000Z\)/);
    // The 100 % step was left at completion, not at the later rollback.
    expect(report.steps[3]).toMatchObject({ enteredAt: iso(33 * MINUTE), leftAt: iso(44 * MINUTE), timeInStep: '11m' });
    expect(report.plan.watchAfterCompletion).toBe('rollback rules keep watching for 2h after completion');
  });

  it('Markdown and HTML say the breach came during the watch, and list the plan’s watch', () => {
    const md = renderMarkdown(report);
    expect(md).toContain('- During the watch after completion: the rollout had completed 2026-03-02 12:44:00 UTC');
    expect(md).toContain('| 2026-03-02 13:49:00 UTC | completed → rolled back | 100% | controller |');
    expect(md).toContain('- After completion: rollback rules keep watching for 2h after completion');
    const html = renderHtml(report);
    expect(html).toContain('<li>During the watch after completion: the rollout had completed 2026-03-02 12:44:00 UTC</li>');
    expect(html).toContain('<li>After completion: rollback rules keep watching for 2h after completion</li>');
  });
});

describe('the plan section states what a shared breach does', () => {
  it.each([
    {
      onSharedBreach: 'hold' as const,
      want: /^a breach control shares \(same rule, same window\) holds the step until it clears; at 100 % no control is left/,
    },
    { onSharedBreach: 'rollback' as const, want: /^a breach control shares rolls back like any other$/ },
  ])('onSharedBreach: $onSharedBreach', ({ onSharedBreach, want }) => {
    const report = buildGoLiveReport(onStep(1, { plan: noApprovalPolicy({ onSharedBreach }) }), noAudit, at(HOUR));
    expect(report.plan.onSharedBreach).toMatch(want);
    expect(report.plan.watchAfterCompletion).toBeUndefined();
    expect(renderMarkdown(report)).toContain(`- On a breach control shares: ${report.plan.onSharedBreach.replace(/[\\`*_[\]<>|~&!#]/g, (c) => `\\${c}`)}`);
    expect(renderMarkdown(report)).not.toContain('After completion:');
  });

  it('a completed rollout without a watch reads as before', () => {
    const report = buildGoLiveReport(completedRollout(), noAudit, at(HOUR));
    expect(report.summary.outcome).toBe('Completed: checkout-v2 reached 100% in production; now serving 100%.');
  });
});
