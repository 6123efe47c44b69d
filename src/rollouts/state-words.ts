import type { RolloutState } from './rollout-model.js';

/**
 * A rollout's state in English words, wherever people read it: the go-live report, rolloutctl and
 * the dashboard (which puts these words into the person's language).
 */
const STATE_WORDS: Record<RolloutState, string> = {
  scheduled: 'scheduled',
  pending: 'pending',
  running: 'running',
  awaiting_approval: 'awaiting approval',
  paused: 'paused',
  completed: 'completed',
  rolled_back: 'rolled back',
  aborted: 'aborted',
};

export const stateWords = (state: RolloutState): string => STATE_WORDS[state];

export function isRolloutState(state: string): state is RolloutState {
  return state in STATE_WORDS;
}
