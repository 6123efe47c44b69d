/**
 * The names of the events webhooks can receive, without anything else, so the dashboard's bundle
 * can offer them (events.ts has the events themselves).
 */

export const ROLLOUT_EVENT_TYPES = [
  'rollout.started',
  'rollout.step_advanced',
  'rollout.awaiting_approval',
  'rollout.gate_failing',
  'rollout.paused',
  'rollout.resumed',
  'rollout.rolled_back',
  'rollout.completed',
  'rollout.aborted',
  // Published by the parts that make them (published-events.ts), not derived from a rollout's change:
  'rollout.scheduled',
  'pipeline.promoted',
] as const;
/** Kill switches flipped by a person (a rollback's own kill is rollout.rolled_back). */
export const FLAG_EVENT_TYPES = ['flag.killed', 'flag.restored'] as const;
/** Every event a webhook may ask for in its `events` filter (a test delivery is not one: it always goes). */
export const EVENT_TYPES = [...ROLLOUT_EVENT_TYPES, ...FLAG_EVENT_TYPES, 'alert.acted', 'flag.drilled'] as const;
