import { describe, expect, it } from 'vitest';
import { flagEvent, pipelinePromotedEvent, rolloutScheduledEvent, type NotificationEvent } from '../../src/notifications/events.js';
import { withLinks } from '../../src/notifications/links.js';
import { summarize, timeText, type Summary } from '../../src/notifications/message.js';
import { durationText } from '../../src/notifications/message-lines.js';
import { testEvent } from '../../src/notifications/published-events.js';
import { EXTRA_KILL, FLAG } from '../unit/decide-fixtures.js';
import { AT, alert, drill, ref, rolledBack, runningR9 } from './sample-events.js';

/**
 * The renderer every format draws from: for each kind of event, the sentence a person reads first
 * and the lines under it, with the numbers in their units. One row per case.
 */

interface Row {
  name: string;
  event: NotificationEvent;
  title: string;
  lines: string[];
  tone: Summary['tone'];
  facts?: Array<[string, string]>;
}

const rows: Row[] = [
  {
    name: 'a rollback: the rule, the value and its limit with units, the samples, what was switched off',
    event: rolledBack(),
    title: `ROLLED BACK: ${FLAG} in production was switched off at 1%`,
    lines: [
      'rollback rule error_rate(treatment) > 0.05 for 5m breached: error_rate 8% over 2,000 requests',
      '✗ error_rate(treatment) > 5% for 5m: 8% (limit 5%) over 2,000 requests',
      `Switched off: ${FLAG}, ${EXTRA_KILL}`,
    ],
    tone: 'bad',
    facts: [
      ['Flag', FLAG],
      ['Environment', 'production'],
      ['Policy', 'test-plan'],
      ['Step', '1% (rolled_back)'],
    ],
  },
  {
    name: 'a kill switch flipped by a person, with the rollout it hit',
    event: flagEvent({ flag: 'checkout', environment: 'production', killed: true, reason: 'errors rising', actor: { name: 'Rita' }, at: AT }, runningR9),
    title: 'KILLED: checkout in production was switched off by Rita',
    lines: ['Reason: errors rising', 'Rollout r-9 (standard) is running at 10%'],
    tone: 'bad',
    facts: [
      ['Flag', 'checkout'],
      ['Environment', 'production'],
      ['Kill switch', 'on (served disabled)'],
      ['By', 'Rita'],
    ],
  },
  {
    name: 'a rollout scheduled for later: the time with the offset it was set in, and how long until then',
    event: rolloutScheduledEvent(ref({ id: 'r-5', state: 'pending', stepIndex: 0, percentage: 0 }), { startAt: '2026-01-17T14:00:00+08:00', by: 'Erin' }, AT),
    title: 'Rollout of checkout in production scheduled to start at 2026-01-17 14:00 UTC+08:00 by Erin',
    lines: ['Starts in 3 h 20 min, at the first step of the policy standard'],
    tone: 'info',
  },
  {
    name: 'a pipeline promotion: from where to where, the rule met, the new rollout',
    event: pipelinePromotedEvent(
      {
        pipeline: 'checkout-path',
        fromEnvironment: 'staging',
        toEnvironment: 'production',
        rollout: ref({ percentage: 1, stepIndex: 0 }),
        rule: 'completed and 1h without a breach',
      },
      AT,
    ),
    title: 'checkout promoted from staging to production by pipeline checkout-path',
    lines: ['Rule met in staging: completed and 1h without a breach', 'Rollout r-7 in production follows the policy standard: running at 1%'],
    tone: 'good',
  },
  {
    name: 'an Alertmanager alert that killed a release: its flags, the alert’s words, its fingerprint',
    event: alert('kill', { environment: 'production', flags: ['supplier-list', 'supplier-form'], release: 'supplier' }),
    title: 'KILLED by alert HighLoad: release supplier (supplier-list, supplier-form) in production was switched off',
    lines: ['Alert: load > 80 % on api-1 for 5m', 'Alertmanager alert firing, fingerprint a1b2c3d4'],
    tone: 'bad',
    facts: [
      ['Release', 'supplier'],
      ['Environment', 'production'],
      ['Action', 'kill'],
      ['Alert', 'HighLoad (firing)'],
    ],
  },
  {
    name: 'an alert that paused a rollout: the step it holds at',
    event: alert('pause', { environment: 'production', flags: ['checkout'], rollout: { ...runningR9, state: 'paused' } }),
    title: 'Paused by alert P0Bug: checkout in production at 10%',
    lines: ['Alert: load > 80 % on api-1 for 5m', 'Generic alert firing, fingerprint a1b2c3d4', 'Rollout r-9 (standard) is paused at 10%'],
    tone: 'warning',
  },
  {
    name: 'an alert that rolled a rollout back',
    event: alert('rollback', { environment: 'staging', flags: ['checkout'], rollout: { ...runningR9, state: 'rolled_back' } }),
    title: 'ROLLED BACK by alert P0Bug: checkout in staging was switched off at 10%',
    lines: ['Alert: load > 80 % on api-1 for 5m', 'Alertmanager alert firing, fingerprint a1b2c3d4', 'Rollout r-9 (standard) is rolled back at 10%'],
    tone: 'bad',
  },
  {
    name: 'a resolved alert that let the paused rollout go on',
    event: alert('resume', { environment: 'production', flags: ['checkout'], rollout: runningR9 }),
    title: 'Resumed: alert P0Bug resolved, checkout in production goes on at 10%',
    lines: ['Alert: load > 80 % on api-1 for 5m', 'Generic alert resolved, fingerprint a1b2c3d4', 'Rollout r-9 (standard) is running at 10%'],
    tone: 'good',
  },
  {
    name: 'a drill every instance confirmed: times to 50 %, 99 % and the last, in ms',
    event: drill(0),
    title: 'Kill drill of checkout in production: all 100 SDK instances confirmed within 1,410 ms',
    lines: [
      'Confirmed by 100 of 100 instances',
      'Time to 50%: 120 ms · 99%: 340 ms · the last: 1,410 ms',
      'Drilled by Rita: quarterly drill; the kill switch was restored afterwards',
    ],
    tone: 'good',
    facts: [
      ['Flag', 'checkout'],
      ['Environment', 'production'],
      ['Confirmed', '100 of 100'],
      ['Slowest', '1,410 ms'],
    ],
  },
  {
    name: 'a drill with an instance that never confirmed',
    event: drill(1),
    title: 'Kill drill of checkout in production: 1 of 100 SDK instances never confirmed',
    lines: [
      'Confirmed by 99 of 100 instances',
      'Time to 50%: 120 ms · 99%: 340 ms · the last: not reached',
      'Drilled by Rita: quarterly drill; the kill switch was restored afterwards',
    ],
    tone: 'warning',
  },
  {
    name: 'a test message',
    event: testEvent('release-room', 'Ada Admin', AT),
    title: 'Test message: webhook release-room reaches this channel',
    lines: [
      'Sent by Ada Admin to check this webhook',
      'Real messages name the flag, the environment, the step as a percentage, what happened and the numbers behind it',
    ],
    tone: 'info',
  },
];

describe('the readable summary of each event (one renderer for every format)', () => {
  it.each(rows)('$name', (row) => {
    const s = summarize(row.event);
    expect(s.title).toBe(row.title);
    expect(s.lines).toEqual(row.lines);
    expect(s.tone).toBe(row.tone);
    if (row.facts) expect(s.facts.map((f) => [f.label, f.value])).toEqual(row.facts);
    expect(s.footer).toBe(`${row.event.type} · ${s.footer.split(' · ')[1]} · ${row.event.occurredAt} · ${row.event.id}`);
  });

  it('links only when they can be clicked: with PUBLIC_URL, the rollout, the flag or the webhooks page', () => {
    expect(summarize(withLinks(rolledBack(), undefined)).links).toEqual([]);
    expect(summarize(withLinks(rolledBack(), 'https://rollouts.example.com')).links).toEqual([
      { label: 'Open the rollout in the dashboard', url: 'https://rollouts.example.com/#/rollouts/r-1' },
    ]);
    const paused = alert('pause', { environment: 'production', flags: ['checkout'], rollout: runningR9 });
    expect(summarize(withLinks(paused, 'https://rollouts.example.com')).links).toEqual([
      { label: 'Open the flag in the dashboard', url: 'https://rollouts.example.com/#/flags?q=checkout&env=production' },
      { label: 'Open the rollout in the dashboard', url: 'https://rollouts.example.com/#/rollouts/r-9' },
    ]);
    expect(summarize(withLinks(testEvent('w', 'Ada', AT), 'https://rollouts.example.com')).links).toEqual([
      { label: 'Open the webhooks page', url: 'https://rollouts.example.com/#/webhooks' },
    ]);
  });

  it('ids are fixed by what happened: the same fact published twice is one event; each test is its own', () => {
    expect(drill(0).id).toBe(drill(0).id);
    expect(alert('kill', { environment: 'production', flags: ['a'] }).id).toBe(alert('kill', { environment: 'production', flags: ['a'] }).id);
    expect(alert('kill', { environment: 'production', flags: ['a'] }).id).not.toBe(alert('pause', { environment: 'production', flags: ['a'] }).id);
    expect(testEvent('w', 'Ada', AT).id).not.toBe(testEvent('w', 'Ada', AT).id);
  });

  it.each([
    ['2026-01-17T14:00:00+08:00', '2026-01-17 14:00 UTC+08:00'],
    ['2026-01-18T02:00:00.000Z', '2026-01-18 02:00 UTC'],
    ['tomorrow', 'tomorrow'],
  ])('times read as set: %s → %s', (iso, text) => expect(timeText(iso)).toBe(text));

  it.each([
    [20_000, 'less than a minute'],
    [45 * 60_000, '45 min'],
    [2 * 3_600_000, '2 h'],
    [(3 * 60 + 20) * 60_000, '3 h 20 min'],
    [50 * 3_600_000, '2 days 2 h'],
  ])('durations read in the largest units: %d ms → %s', (ms, text) => expect(durationText(ms)).toBe(text));
});
