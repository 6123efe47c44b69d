import { describe, expect, it } from 'vitest';
import { decide } from '../../src/rollouts/decide.js';
import type { DecisionInput, Rollout } from '../../src/rollouts/rollout-model.js';
import { deriveEvents, type RolloutEvent } from '../../src/notifications/events.js';
import { renderPayload, slackMessage } from '../../src/notifications/payloads.js';
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
    expect(section).toContain('✗ error_rate(treatment) &gt; 0.05 for 5m: 0.08 over 2000 requests');
    expect(section).toContain(`Switched off: ${FLAG}, ${EXTRA_KILL}`);
    expect(message.blocks[1].fields.map((f: any) => f.text)).toEqual([`*Flag*\n${FLAG}`, '*Environment*\nproduction', '*Policy*\ntest-plan', '*Step*\n1 at 1% (rolled_back)']);
    expect(message.blocks[2].elements[0].text).toContain('rollout.rolled_back · rollout r-1');
  });

  it('the Slack form names the approver and quotes the comment, with Slack markup escaped', () => {
    const event = only(rollout({ state: 'awaiting_approval', stepVerdict: { kind: 'healthy' } }), { kind: 'approve', by: bob, comment: 'ship <it> & go' }, at(20 * MINUTE));
    const message = slackMessage(event);
    expect(message.text).toBe(`${FLAG} in production advanced 1% → 10% (step 2 of 4)`);
    expect(JSON.stringify(message.blocks[0])).toContain('Approved by Bob: “ship &lt;it&gt; &amp; go”');
  });

  it('renders the same bytes every time (each retry sends the body it signed before)', () => {
    const event = rolledBack();
    expect(renderPayload(event, 'slack')).toBe(renderPayload(structuredClone(event), 'slack'));
    expect(renderPayload(event, 'json')).toBe(renderPayload(structuredClone(event), 'json'));
  });
});
