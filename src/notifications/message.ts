import { count, counted } from '../rollouts/units.js';
import { isRolloutEvent, type FlagEvent, type NotificationEvent, type RolloutEvent, type RolloutRef } from './events.js';
import { isAbsolute } from './links.js';
import type { AlertEvent, DrillEvent } from './published-events.js';
import { detailLines, msText } from './message-lines.js';
import { messageWords } from './message-words.js';
import { factValueZh, headlineZh, labelZh } from './message-zh-CN.js';
import type { MESSAGE_LANGUAGES } from './webhook-model.js';

/**
 * The one place a notification's wording lives. Every chat format and the e-mail are drawn from
 * the Summary of an event, so a message reads the same in Slack, DingTalk, Feishu, WeCom, Teams and
 * a mailbox: what happened in one sentence a person takes in at a glance (the flag, the
 * environment, the step as a percentage), then the numbers behind it with their units, then the
 * facts and a link to the dashboard. Pure: an event in, text out.
 */

/** How urgent the news is: colours a card, marks a subject. */
export type Tone = 'bad' | 'warning' | 'good' | 'info';

export interface Summary {
  /** One sentence, for previews, titles and e-mail subjects. */
  title: string;
  /** The values behind it, one a line, every number with its unit. */
  lines: string[];
  /** Shown beside the message: flag, environment, step… */
  facts: Array<{ label: string; value: string }>;
  /** Only links that can be clicked (absolute: PUBLIC_URL is set). */
  links: Array<{ label: string; url: string }>;
  tone: Tone;
  /** What a receiver that keeps messages would search for: type, subject, time, event id. */
  footer: string;
}

/** The language of a webhook's messages (the webhook's `language`). */
export type MessageLanguage = (typeof MESSAGE_LANGUAGES)[number];

export function summarize(e: NotificationEvent, language: MessageLanguage = 'en'): Summary {
  const words = messageWords(language);
  const summary: Summary = {
    title: headline(e),
    lines: detailLines(e, words),
    facts: factsOf(e),
    links: linksOf(e),
    tone: toneOf(e),
    footer: footerOf(e),
  };
  if (language === 'en') return summary;
  return {
    ...summary,
    title: headlineZh(e, words),
    facts: summary.facts.map((f) => ({ label: labelZh(f.label), value: factValueZh(f.label, f.value) })),
    links: summary.links.map((l) => ({ ...l, label: labelZh(l.label) })),
  };
}

/** "2026-01-17T14:00:00+08:00" → "2026-01-17 14:00 UTC+08:00": the time as the person who set it wrote it, with its offset. */
export function timeText(iso: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.exec(iso);
  if (!m) return iso;
  return `${m[1]} ${m[2]} ${m[3] === 'Z' ? 'UTC' : `UTC${m[3]}`}`;
}

/** "checkout" or "release supplier (supplier-list, supplier-form)". */
function alertSubject(t: AlertEvent['target']): string {
  return t.release ? `release ${t.release} (${t.flags.join(', ')})` : t.flags.join(', ');
}

/** One sentence a person can read in a notification preview. Steps are named by their percentage and every number carries its unit. */
export function headline(e: NotificationEvent): string {
  if (isRolloutEvent(e)) return rolloutHeadline(e);
  switch (e.type) {
    case 'flag.killed':
    case 'flag.restored':
      return flagHeadline(e);
    case 'alert.acted':
      return alertHeadline(e);
    case 'flag.drilled':
      return drillHeadline(e);
    case 'webhook.test':
      return `Test message: webhook ${e.webhook.id} reaches this channel`;
  }
}

/** What a rollout event is about: its flag, or a release by name. */
const subjectOf = (r: RolloutRef) => (r.release ? `release ${r.release.name}` : r.flag);

function rolloutHeadline(e: RolloutEvent): string {
  const what = `${subjectOf(e.rollout)} in ${e.rollout.environment}`;
  switch (e.type) {
    case 'rollout.started':
      return `Rollout of ${what} started at ${e.details.percentage}% by ${e.details.startedBy}`;
    case 'rollout.step_advanced':
      return `${what} advanced ${e.details.fromPercentage}% → ${e.details.toPercentage}%${e.details.step === e.details.steps ? ' (the last step)' : ''}`;
    case 'rollout.awaiting_approval': {
      const n = e.details.approvalsNeeded;
      return (
        `${what} is waiting for approval to go to ${e.details.nextPercentage}% ` +
        `(${n} approval${n === 1 ? '' : 's'} needed from ${e.details.roles.join(' or ') || 'anyone'})`
      );
    }
    case 'rollout.gate_failing':
      return `Gates failing for ${what} at ${e.rollout.percentage}%`;
    case 'rollout.paused':
      return `${what} paused at ${e.rollout.percentage}%: ${e.details.reason}`;
    case 'rollout.resumed':
      return `${what} resumed at ${e.rollout.percentage}% by ${e.details.by}`;
    case 'rollout.rolled_back':
      return `ROLLED BACK: ${what} was switched off at ${e.rollout.percentage}%`;
    case 'rollout.completed':
      return `${what} completed at ${e.details.percentage}%`;
    case 'rollout.aborted':
      return `${what} aborted at ${e.rollout.percentage}%: ${e.details.reason}`;
    case 'rollout.scheduled':
      return `Rollout of ${what} scheduled to start at ${timeText(e.details.startAt)} by ${e.details.by}`;
    case 'pipeline.promoted':
      return `${subjectOf(e.rollout)} promoted from ${e.details.fromEnvironment} to ${e.details.toEnvironment} by pipeline ${e.details.pipeline}`;
  }
}

function flagHeadline(e: FlagEvent): string {
  const what = `${e.flag.name} in ${e.flag.environment}`;
  return e.type === 'flag.killed' ? `KILLED: ${what} was switched off by ${e.details.actor}` : `RESTORED: ${what} was switched back on by ${e.details.actor}`;
}

function alertHeadline(e: AlertEvent): string {
  const { target, details } = e;
  const what = `${alertSubject(target)} in ${target.environment}`;
  const at = target.rollout ? ` at ${target.rollout.percentage}%` : '';
  switch (details.action) {
    case 'kill':
      return `KILLED by alert ${details.alertName}: ${what} was switched off`;
    case 'rollback':
      return `ROLLED BACK by alert ${details.alertName}: ${what} was switched off${at}`;
    case 'pause':
      return `Paused by alert ${details.alertName}: ${what}${at}`;
    case 'resume':
      return `Resumed: alert ${details.alertName} resolved, ${what} goes on${at}`;
  }
}

function drillHeadline(e: DrillEvent): string {
  const what = `${e.flag.name} in ${e.flag.environment}`;
  const { instances, missing, ms } = e.details;
  return missing === 0
    ? `Kill drill of ${what}: all ${counted(instances, 'SDK instance')} confirmed within ${msText(ms.max)}`
    : `Kill drill of ${what}: ${missing} of ${counted(instances, 'SDK instance')} never confirmed`;
}

/** The facts beside the message: for a rollout its policy and where it stands, for a flag its switch. */
function factsOf(e: NotificationEvent): Summary['facts'] {
  const fact = (label: string, value: string) => ({ label, value });
  if (isRolloutEvent(e)) {
    const r = e.rollout;
    const subject = r.release ? [fact('Release', r.release.name), fact('Flags', r.release.flags.join(', '))] : [fact('Flag', r.flag)];
    return [...subject, fact('Environment', r.environment), fact('Policy', r.policy), fact('Step', `${r.percentage}% (${r.state})`)];
  }
  switch (e.type) {
    case 'flag.killed':
    case 'flag.restored':
      return [
        fact('Flag', e.flag.name),
        fact('Environment', e.flag.environment),
        fact('Kill switch', e.type === 'flag.killed' ? 'on (served disabled)' : 'off'),
        fact('By', e.details.actor),
      ];
    case 'alert.acted': {
      const t = e.target;
      return [
        fact(t.release ? 'Release' : t.flags.length > 1 ? 'Flags' : 'Flag', t.release ?? t.flags.join(', ')),
        fact('Environment', t.environment),
        fact('Action', e.details.action),
        fact('Alert', `${e.details.alertName} (${e.details.status})`),
      ];
    }
    case 'flag.drilled':
      return [
        fact('Flag', e.flag.name),
        fact('Environment', e.flag.environment),
        fact('Confirmed', `${count(e.details.confirmed)} of ${count(e.details.instances)}`),
        fact('Slowest', msText(e.details.ms.max)),
      ];
    case 'webhook.test':
      return [fact('Webhook', e.webhook.id), fact('Sent by', e.details.by)];
  }
}

function linksOf(e: NotificationEvent): Summary['links'] {
  const subject = isRolloutEvent(e) ? 'rollout' : e.type === 'webhook.test' ? 'webhooks page' : 'flag';
  const label = subject === 'webhooks page' ? 'Open the webhooks page' : `Open the ${subject} in the dashboard`;
  return [
    ...(isAbsolute(e.links?.dashboard) ? [{ label, url: e.links.dashboard }] : []),
    ...(isAbsolute(e.links?.rollout) ? [{ label: 'Open the rollout in the dashboard', url: e.links.rollout }] : []),
  ];
}

function toneOf(e: NotificationEvent): Tone {
  switch (e.type) {
    case 'rollout.rolled_back':
    case 'flag.killed':
      return 'bad';
    case 'alert.acted':
      return e.details.action === 'kill' || e.details.action === 'rollback' ? 'bad' : e.details.action === 'pause' ? 'warning' : 'good';
    case 'flag.drilled':
      return e.details.missing > 0 ? 'warning' : 'good';
    case 'rollout.gate_failing':
    case 'rollout.paused':
    case 'rollout.aborted':
    case 'rollout.awaiting_approval':
      return 'warning';
    case 'rollout.started':
    case 'rollout.step_advanced':
    case 'rollout.resumed':
    case 'rollout.completed':
    case 'flag.restored':
    case 'pipeline.promoted':
      return 'good';
    case 'rollout.scheduled':
    case 'webhook.test':
      return 'info';
  }
}

function footerOf(e: NotificationEvent): string {
  const subject = isRolloutEvent(e)
    ? `rollout ${e.rollout.id}`
    : e.type === 'alert.acted'
      ? `alert ${e.details.alertName}`
      : e.type === 'webhook.test'
        ? `webhook ${e.webhook.id}`
        : `flag ${e.flag.name}`;
  return `${e.type} · ${subject} · ${e.occurredAt} · ${e.id}`;
}
