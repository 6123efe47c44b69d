import { createHash } from 'node:crypto';
import type { AlertNote } from '../rollouts/rollout-model.js';

/**
 * Incoming alerts in the controller's own terms, whichever route they came in on: what they said
 * (IncomingAlert), what they ask of whom (Directive), and what came of it (AlertResult).
 */

export const ALERT_ACTIONS = ['pause', 'rollback', 'kill'] as const;
export type AlertAction = (typeof ALERT_ACTIONS)[number];

/** When two routing rules ask different things of one target, the one that stops more wins. */
export const ACTION_STRENGTH: Record<AlertAction, number> = { pause: 1, rollback: 2, kill: 3 };

export type AlertSource = 'alertmanager' | 'generic';

export interface AlertTarget {
  kind: 'flag' | 'release';
  name: string;
}

/** One alert as it arrived, with the fields the controller reads; labels and annotations as sent. */
export interface IncomingAlert {
  source: AlertSource;
  /** As sent, or (an Alertmanager too old to send one) a hash of the labels, as Alertmanager's own is. */
  fingerprint: string;
  /** Whether the caller gave a fingerprint: without one, a generic alert cannot be recognised when resent. */
  identified: boolean;
  status: 'firing' | 'resolved';
  /** When the alert began (ISO 8601, to the millisecond): with the fingerprint, one episode of the alert. */
  startsAt?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  generatorURL?: string;
}

/** What one alert asks of one target, and why (`via`: its labels, a routing rule, or the generic request). */
export interface Directive {
  target: AlertTarget;
  environment: string;
  action: AlertAction;
  via: string;
}

/**
 * `acted`: the action was taken now. `duplicate`: this alert was acted on before (a resend).
 * `nothing_to_act_on`: nothing to pause or roll back (no active rollout, already paused, a resolve
 * with nothing to resume), recorded. `unknown_target`: no such flag, release or environment, or no
 * label and no routing rule names one. `invalid`: the alert's labels cannot be acted on (an
 * unknown action, no environment).
 */
export type Outcome = 'acted' | 'duplicate' | 'nothing_to_act_on' | 'unknown_target' | 'invalid';

export interface AlertResult {
  fingerprint: string;
  status: IncomingAlert['status'];
  target: AlertTarget | null;
  environment: string | null;
  /** What the alert asked for; on a resolved alert, `resume` when it resumed what it paused. */
  action: AlertAction | 'resume' | null;
  outcome: Outcome;
  /** In words: what was done, or why nothing was. */
  detail: string;
  rolloutId?: string;
  via?: string;
}

/** Bounds of what a rollout's history and the audit log keep of an alert (README, "Limits"). */
export const NOTE_LIMITS = { labels: 20, labelChars: 200, textChars: 500 } as const;

const cut = (text: string | undefined, max: number) => (text === undefined || text.length <= max ? text : `${text.slice(0, max - 1)}…`);

/** What the history and the audit log keep of an alert: its name, labels and the usual annotations, each cut short. */
export function noteOf(alert: IncomingAlert): AlertNote {
  const labels = Object.fromEntries(
    Object.entries(alert.labels)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .slice(0, NOTE_LIMITS.labels)
      .map(([k, v]) => [cut(k, NOTE_LIMITS.labelChars)!, cut(v, NOTE_LIMITS.labelChars)!]),
  );
  const text = (value: string | undefined) => cut(value, NOTE_LIMITS.textChars);
  const note: AlertNote = { source: alert.source, fingerprint: alert.fingerprint, status: alert.status, labels };
  const optional = {
    alertname: cut(alert.labels.alertname, NOTE_LIMITS.labelChars),
    startsAt: alert.startsAt,
    generatorURL: text(alert.generatorURL),
    summary: text(alert.annotations.summary),
    description: text(alert.annotations.description),
  };
  for (const [key, value] of Object.entries(optional)) if (value) (note as unknown as Record<string, string>)[key] = value;
  return note;
}

/** "HighErrorRate (fingerprint 1a30ba71cca2921f): error rate above 5 %": an alert in one line, for reasons and logs. */
export function describeAlert(alert: IncomingAlert): string {
  const name = alert.labels.alertname ?? (alert.source === 'generic' ? 'alert' : 'unnamed alert');
  const what = alert.annotations.summary ?? alert.annotations.description;
  return cut(`${name} (fingerprint ${alert.fingerprint})${what ? `: ${what}` : ''}`, NOTE_LIMITS.textChars)!;
}

/**
 * A fingerprint for an alert sent without one: a hash of its sorted labels, which is what
 * identifies an alert in Alertmanager too (not byte for byte the same value as its own).
 */
export function labelsFingerprint(labels: Record<string, string>): string {
  const hash = createHash('sha256');
  for (const [k, v] of Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) hash.update(`${k}\u0000${v}\u0000`);
  return hash.digest('hex').slice(0, 16);
}

export const targetText = (t: AlertTarget) => `${t.kind} "${t.name}"`;
