import {
  alertActedEvent,
  deriveEvents,
  flagDrilledEvent,
  flagEvent,
  type FlagEvent,
  type RolloutEvent,
  type RolloutRef,
} from '../../src/notifications/events.js';
import { withLinks } from '../../src/notifications/links.js';
import { decide } from '../../src/rollouts/decide.js';
import type { DecisionInput, Rollout } from '../../src/rollouts/rollout-model.js';
import { analysis, at, BREACHING, expectDecided, iso, MINUTE, rollout } from '../unit/decide-fixtures.js';

export const PUBLIC_URL = 'https://rollouts.example.com';

/** Rita kills checkout in production, where rollout r-9 runs at 10%, for `reason`; with links to PUBLIC_URL. */
export function ritasKill(reason: string): FlagEvent {
  return withLinks(
    flagEvent(
      { flag: 'checkout', environment: 'production', killed: true, reason, actor: { name: 'Rita' }, at: '2026-03-02T10:00:00.000Z' },
      { id: 'r-9', policy: 'standard', state: 'running', percentage: 10 },
    ),
    PUBLIC_URL,
  );
}

/** Quick retries, and receivers on 127.0.0.1 allowed (they are loopback addresses). */
export const FAST_WEBHOOKS = {
  WEBHOOK_RETRY_BASE_MS: '50',
  WEBHOOK_RETRY_MAX_MS: '400',
  WEBHOOK_POLL_MS: '50',
  WEBHOOK_TIMEOUT_MS: '3000',
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
} as const;

export const AT = '2026-01-17T02:40:00.000Z';

/** Where a rollout event says the rollout stands: r-7 of checkout in production at 10 %, unless overridden. */
export const ref = (over: Partial<RolloutRef> = {}): RolloutRef => ({
  id: 'r-7',
  flag: 'checkout',
  environment: 'production',
  policy: 'standard',
  state: 'running',
  stepIndex: 1,
  percentage: 10,
  ...over,
});

/** The events the decision core's answer to `input` gives rise to (decide-fixtures' rollout and clock). */
export const decidedEvents = (before: Rollout, input: DecisionInput, now: Date): RolloutEvent[] =>
  deriveEvents(before, expectDecided(decide(before, input, now)).next);

/** A rollback rule breached for five minutes: the rollout rolled back by the controller. */
export const rolledBack = () => decidedEvents(rollout({ breachingSince: [iso(10 * MINUTE)] }), analysis(BREACHING), at(15 * MINUTE))[0]!;

/** An alert (Alertmanager for a kill or rollback, a generic one for a pause or resume) acting on `target`. */
export const alert = (action: 'kill' | 'pause' | 'rollback' | 'resume', target: Parameters<typeof alertActedEvent>[0]['target']) =>
  alertActedEvent(
    {
      target,
      details: {
        source: action === 'pause' || action === 'resume' ? 'generic' : 'alertmanager',
        alertName: action === 'kill' ? 'HighLoad' : 'P0Bug',
        fingerprint: 'a1b2c3d4',
        action,
        status: action === 'resume' ? 'resolved' : 'firing',
        summary: 'load > 80 % on api-1 for 5m',
      },
    },
    AT,
  );

/** Rita's kill drill of checkout over 100 instances, `missing` of which never confirmed. */
export const drill = (missing: number) =>
  flagDrilledEvent(
    {
      flag: 'checkout',
      environment: 'production',
      details: {
        by: 'Rita',
        reason: 'quarterly drill',
        instances: 100,
        confirmed: 100 - missing,
        ms: { p50: 120, p99: 340, max: missing ? null : 1_410 },
        missing,
      },
    },
    AT,
  );

export const runningR9 = { id: 'r-9', policy: 'standard', state: 'running' as const, percentage: 10 };
