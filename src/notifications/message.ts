import { count } from '../rollouts/units.js';
import { isRolloutEvent, type NotificationEvent } from './events.js';
import { isAbsolute } from './links.js';
import { detailLines, msText } from './message-lines.js';
import { messageWords } from './message-words.js';
import { factValueZh, labelZh } from './message-zh-CN.js';
import { headline } from './headline.js';
import type { MESSAGE_LANGUAGES } from './webhook-model.js';

export { headline, timeText } from './headline.js';

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
    title: headline(e, words),
    lines: detailLines(e, words),
    facts: factsOf(e),
    links: linksOf(e),
    tone: toneOf(e),
    footer: footerOf(e),
  };
  if (language === 'en') return summary;
  return {
    ...summary,
    facts: summary.facts.map((f) => ({ label: labelZh(f.label), value: factValueZh(f.label, f.value, words) })),
    links: summary.links.map((l) => ({ ...l, label: labelZh(l.label) })),
  };
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
