import { createHash, randomBytes } from 'node:crypto';
import type { RolloutState } from '../rollouts/rollout-model.js';
import type { EventLinks, RolloutEvent, RolloutRef } from './events.js';

/**
 * Events that other parts of the controller publish as they act, rather than events derived from a
 * rollout's change: a rollout scheduled to start later, a pipeline's promotion, an incoming alert
 * acted on, a kill drill. Each has a builder, so that the wording of the details is fixed here and
 * the publisher only says what happened; NotificationDispatcher.publish queues what they build.
 * Ids are fixed by what happened, like a derived event's: the same fact published twice has the same
 * id, so a receiver drops the repeat as it drops a delivery sent again.
 */

/** A rollout as a flag event names it: which one, under which policy, and where it stood. */
export interface RolloutNote {
  id: string;
  policy: string;
  state: RolloutState;
  percentage: number;
}

export const ALERT_SOURCES = ['alertmanager', 'generic'] as const;
/** `resume`: a resolved alert let a rollout it had paused go on (when the policy says so). */
export const ALERT_ACTIONS = ['pause', 'rollback', 'kill', 'resume'] as const;
export type AlertSource = (typeof ALERT_SOURCES)[number];
export type AlertAction = (typeof ALERT_ACTIONS)[number];

/** An incoming alert (Alertmanager's or the generic one) that the controller acted on. */
export interface AlertEvent {
  id: string;
  type: 'alert.acted';
  occurredAt: string;
  /** What it acted on, in one environment: a flag, or the flags of a release; and the rollout active there, if any. */
  target: { environment: string; flags: string[]; release?: string; rollout?: RolloutNote };
  details: {
    source: AlertSource;
    alertName: string;
    fingerprint: string;
    action: AlertAction;
    status: 'firing' | 'resolved';
    /** The alert's own words (its summary annotation, or the generic alert's reason). */
    summary: string;
  };
  links?: EventLinks;
}

/** A kill drill: the kill switch flipped, every SDK instance waited for, and restored. */
export interface DrillEvent {
  id: string;
  type: 'flag.drilled';
  occurredAt: string;
  flag: { name: string; environment: string };
  details: {
    by: string;
    reason?: string;
    /** SDK instances seen recently, and how many of them confirmed the kill. */
    instances: number;
    confirmed: number;
    /** Time from the kill to 50 %, 99 % and all of the instances that confirmed (null: too few confirmed). */
    ms: { p50: number | null; p99: number | null; max: number | null };
    /** Instances that never confirmed before the drill's timeout. */
    missing: number;
  };
  links?: EventLinks;
}

/** What `POST /api/admin/webhooks/{id}/test` sends: not a real event, and never filtered out. */
export interface TestEvent {
  id: string;
  type: 'webhook.test';
  occurredAt: string;
  webhook: { id: string };
  details: { by: string };
  links?: EventLinks;
}

const hashId = (...parts: string[]) => `evt_${createHash('sha256').update(parts.join('|')).digest('hex').slice(0, 32)}`;

/** A rollout created to start later (`startAt`); published by whoever creates it, once. */
export function rolloutScheduledEvent(rollout: RolloutRef, details: { startAt: string; by: string }, occurredAt: string): RolloutEvent {
  return { id: hashId(rollout.id, 'rollout.scheduled', occurredAt), type: 'rollout.scheduled', occurredAt, rollout, details };
}

/**
 * A pipeline started the next environment's rollout because its promotion rule was met. `rollout`
 * is that new rollout, so filters by environment and policy see the environment promoted into.
 */
export function pipelinePromotedEvent(
  input: { pipeline: string; fromEnvironment: string; toEnvironment: string; rollout: RolloutRef; rule?: string },
  occurredAt: string,
): RolloutEvent {
  const { rollout, ...rest } = input;
  return {
    id: hashId('pipeline', input.pipeline, input.fromEnvironment, input.toEnvironment, rollout.id),
    type: 'pipeline.promoted',
    occurredAt,
    rollout,
    details: { ...rest, rolloutId: rollout.id },
  };
}

export function alertActedEvent(input: { target: AlertEvent['target']; details: AlertEvent['details'] }, occurredAt: string): AlertEvent {
  const { target, details } = input;
  return {
    id: hashId('alert', details.source, details.fingerprint, details.status, details.action, target.environment, occurredAt),
    type: 'alert.acted',
    occurredAt,
    target,
    details,
  };
}

export function flagDrilledEvent(input: { flag: string; environment: string; details: DrillEvent['details'] }, occurredAt: string): DrillEvent {
  return {
    id: hashId('drill', input.flag, input.environment, occurredAt),
    type: 'flag.drilled',
    occurredAt,
    flag: { name: input.flag, environment: input.environment },
    details: input.details,
  };
}

/** Each test is its own event (a random id): a receiver that drops repeats must not drop the second test. */
export function testEvent(webhookId: string, by: string, occurredAt: string, random = randomBytes): TestEvent {
  return { id: `evt_test_${random(12).toString('hex')}`, type: 'webhook.test', occurredAt, webhook: { id: webhookId }, details: { by } };
}
