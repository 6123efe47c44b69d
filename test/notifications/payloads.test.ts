import { describe, expect, it } from 'vitest';
import { decide } from '../../src/rollouts/decide.js';
import type { DecisionInput, Rollout } from '../../src/rollouts/rollout-model.js';
import { deriveEvents, flagEvent, type RolloutEvent } from '../../src/notifications/events.js';
import { withLinks } from '../../src/notifications/links.js';
import { renderPayload, slackMessage } from '../../src/notifications/payloads.js';
import { describeCheck } from '../../src/notifications/units.js';
import { analysis, at, bob, BREACHING, expectDecided, EXTRA_KILL, FLAG, iso, MINUTE, rollout } from '../unit/decide-fixtures.js';

function only(before: Rollout, input: DecisionInput, now: Date): RolloutEvent {
  const events = deriveEvents(before, expectDecided(decide(before, input, now)).next);
  expect(events).toHaveLength(1);
  return events[0]!;
}

const rolledBack = () => only(rollout({ breachingSince: [iso(10 * MINUTE)] }), analysis(BREACHING), at(15 * MINUTE));

describe('webhook payloads', () => {
  it('the JSON form is the event itself: id, type, occurredAt, rollout, details', () => {
    const event = rolledBack();
    const body = JSON.parse(renderPayload(event, 'json'));
    expect(Object.keys(body)).toEqual(['id', 'type', 'occurredAt', 'rollout', 'details']);
    expect(body).toEqual(JSON.parse(JSON.stringify(event)));
    expect(body.rollout).toEqual({ id: 'r-1', flag: FLAG, environment: 'production', policy: 'test-plan', state: 'rolled_back', stepIndex: 0, percentage: 1 });
  });

  it('the Slack form reads as a sentence and carries the breach values', () => {
    const message = JSON.parse(renderPayload(rolledBack(), 'slack'));
    expect(message.text).toBe(`ROLLED BACK: ${FLAG} in production was switched off at 1%`);
    const section = message.blocks[0].text.text as string;
    // Numbers carry their units: the rate and its limit as percentages, the samples as requests.
    expect(section).toContain('✗ error_rate(treatment) &gt; 5% for 5m: 8% (limit 5%) over 2,000 requests');
    expect(section).toContain(`Switched off: ${FLAG}, ${EXTRA_KILL}`);
    expect(message.blocks[1].fields.map((f: any) => f.text)).toEqual([
      `*Flag*\n${FLAG}`,
      '*Environment*\nproduction',
      '*Policy*\ntest-plan',
      '*Step*\n1% (rolled_back)',
    ]);
    expect(message.blocks[2].elements[0].text).toContain('rollout.rolled_back · rollout r-1');
  });

  it('the Slack form names the approver and quotes the comment, with Slack markup escaped', () => {
    const event = only(
      rollout({ state: 'awaiting_approval', stepVerdict: { kind: 'healthy' } }),
      { kind: 'approve', by: bob, comment: 'ship <it> & go' },
      at(20 * MINUTE),
    );
    const message = slackMessage(event);
    // Steps are named by their percentage, never by their number.
    expect(message.text).toBe(`${FLAG} in production advanced 1% → 10%`);
    expect(JSON.stringify(message.blocks[0])).toContain('Approved by Bob: “ship &lt;it&gt; &amp; go”');
  });

  it('renders the same bytes every time (each retry sends the body it signed before)', () => {
    const event = rolledBack();
    expect(renderPayload(event, 'slack')).toBe(renderPayload(structuredClone(event), 'slack'));
    expect(renderPayload(event, 'json')).toBe(renderPayload(structuredClone(event), 'json'));
  });

  it('every event links to the dashboard: a rollout to its page, JSON in `links`, Slack as <url|text>', () => {
    const event = withLinks(rolledBack(), 'https://rollouts.example.com');
    const body = JSON.parse(renderPayload(event, 'json'));
    expect(body.links).toEqual({ dashboard: 'https://rollouts.example.com/#/rollouts/r-1' });
    expect(slackMessage(event).blocks[0]).toMatchObject({
      text: { text: expect.stringContaining('<https://rollouts.example.com/#/rollouts/r-1|Open the rollout in the dashboard>') },
    });
    // Without PUBLIC_URL the JSON link is a path on the controller, and Slack shows none (it could not be clicked).
    const relative = withLinks(rolledBack(), undefined);
    expect(relative.links).toEqual({ dashboard: '/#/rollouts/r-1' });
    expect(JSON.stringify(slackMessage(relative))).not.toContain('/#/rollouts');
  });

  it('a kill switch flipped by a person: flag, environment, reason, who, when, the active rollout, and a link to the flag', () => {
    const change = {
      flag: 'checkout',
      environment: 'production',
      killed: true,
      reason: 'errors <50%> & rising',
      actor: { name: 'Rita' },
      at: '2026-03-02T10:00:00.000Z',
    };
    const event = withLinks(flagEvent(change, { id: 'r-9', policy: 'standard', state: 'running', percentage: 10 }), 'https://rollouts.example.com');
    expect(JSON.parse(renderPayload(event, 'json'))).toEqual({
      id: event.id,
      type: 'flag.killed',
      occurredAt: change.at,
      flag: { name: 'checkout', environment: 'production' },
      details: { reason: change.reason, actor: 'Rita', at: change.at, rollout: { id: 'r-9', policy: 'standard', state: 'running', percentage: 10 } },
      links: { dashboard: 'https://rollouts.example.com/#/flags?q=checkout&env=production', rollout: 'https://rollouts.example.com/#/rollouts/r-9' },
    });
    expect(flagEvent(change, undefined).id).toBe(event.id);
    const slack = slackMessage(event);
    expect(slack.text).toBe('KILLED: checkout in production was switched off by Rita');
    const section = (slack.blocks[0] as any).text.text as string;
    expect(section).toContain('• Reason: errors &lt;50%&gt; &amp; rising');
    expect(section).toContain('Rollout r-9 (standard) is running at 10%');
    expect(section).toContain('<https://rollouts.example.com/#/flags?q=checkout&amp;env=production|Open the flag in the dashboard>');
    const restored = flagEvent({ ...change, killed: false }, undefined);
    expect(restored.type).toBe('flag.restored');
    expect(restored.details).not.toHaveProperty('rollout');
    expect(slackMessage(restored).text).toBe('RESTORED: checkout in production was switched back on by Rita');
  });

  it('checks read with units: latencies in ms, confidences and shares in %', () => {
    const base = { cohort: 'treatment', samples: 12_345, verdict: 'fail' as const };
    expect(describeCheck({ ...base, rule: 'latency_p99_ms(treatment) <= 250', metric: 'latency_p99_ms', threshold: 250, value: 312.4 })).toBe(
      '✗ latency_p99_ms(treatment) <= 250 ms: 312 ms (limit 250 ms) over 12,345 requests',
    );
    expect(describeCheck({ ...base, rule: 'error_rate(treatment) <= 0.01 at 0.95 confidence', metric: 'error_rate', threshold: 0.01, value: 0.0234 })).toBe(
      '✗ error_rate(treatment) <= 1% at 95% confidence: 2.34% (limit 1%) over 12,345 requests',
    );
    expect(describeCheck({ ...base, rule: 'treatment share = 10% (chi2 p >= 0.001)', metric: 'sample_ratio', cohort: 'all', threshold: 0.1, value: 0.2 })).toBe(
      '✗ treatment share = 10% (chi2 p >= 0.001): 20% (expected 10%) over 12,345 evaluations',
    );
  });
});
