import { ROLLOUT_EVENT_TYPES } from './event-types.js';
import type { FlagEvent, NotificationEvent, RolloutEvent } from './events.js';

/** Which kind of event this is, and what it concerns: without anything else, so the dashboard's bundle can use it too. */

export const isRolloutEvent = (e: NotificationEvent): e is RolloutEvent => (ROLLOUT_EVENT_TYPES as readonly string[]).includes(e.type);
export const isFlagEvent = (e: NotificationEvent): e is FlagEvent => e.type === 'flag.killed' || e.type === 'flag.restored';

/**
 * What filters and logs need of any event: where it happened and which rollout it concerns. A test
 * delivery has no environment (filters never apply to it).
 */
export function scopeOf(e: NotificationEvent): { flag: string; environment: string; rolloutId?: string; policy?: string } {
  if (isRolloutEvent(e)) return { flag: e.rollout.flag, environment: e.rollout.environment, rolloutId: e.rollout.id, policy: e.rollout.policy };
  const withRollout = (r: { id: string; policy: string } | undefined) => (r ? { rolloutId: r.id, policy: r.policy } : {});
  switch (e.type) {
    case 'flag.killed':
    case 'flag.restored':
      return { flag: e.flag.name, environment: e.flag.environment, ...withRollout(e.details.rollout) };
    case 'flag.drilled':
      return { flag: e.flag.name, environment: e.flag.environment };
    case 'alert.acted':
      return { flag: e.target.release ?? e.target.flags.join(', '), environment: e.target.environment, ...withRollout(e.target.rollout) };
    case 'webhook.test':
      return { flag: '', environment: '' };
  }
}
