import { isFlagEvent, type FlagEvent, type NotificationEvent, type RolloutEvent } from './events.js';
import { isAbsolute } from './links.js';
import { describeCheck } from './units.js';

export const WEBHOOK_FORMATS = ['json', 'slack'] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];

/** The body a webhook of `format` receives for `event`. Deterministic, so every retry sends the same bytes. */
export function renderPayload(event: NotificationEvent, format: WebhookFormat): string {
  switch (format) {
    case 'json':
      return JSON.stringify(event);
    case 'slack':
      return JSON.stringify(slackMessage(event));
  }
}

/**
 * One sentence a person can read in a notification preview. Steps are named by their percentage
 * (a person thinks "the 50% step", not "step 3") and every number carries its unit.
 */
export function headline(e: NotificationEvent): string {
  if (isFlagEvent(e)) return flagHeadline(e);
  const what = `${e.rollout.flag} in ${e.rollout.environment}`;
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
  }
}

function flagHeadline(e: FlagEvent): string {
  const what = `${e.flag.name} in ${e.flag.environment}`;
  return e.type === 'flag.killed' ? `KILLED: ${what} was switched off by ${e.details.actor}` : `RESTORED: ${what} was switched back on by ${e.details.actor}`;
}

/** The lines under the headline: the values behind the event. */
function detailLines(e: NotificationEvent): string[] {
  if (isFlagEvent(e)) {
    const r = e.details.rollout;
    return [`Reason: ${e.details.reason}`, ...(r ? [`Rollout ${r.id} (${r.policy}) is ${r.state.replace('_', ' ')} at ${r.percentage}%`] : [])];
  }
  switch (e.type) {
    case 'rollout.gate_failing':
      return e.details.failing.map(describeCheck);
    case 'rollout.rolled_back':
      return [e.details.reason, ...e.details.breaches.map(describeCheck), `Switched off: ${e.details.killed.join(', ')}`];
    case 'rollout.step_advanced':
      return e.details.approvals.map((a) => `Approved by ${a.by}${a.comment ? `: “${a.comment}”` : ''}`);
    case 'rollout.awaiting_approval':
    case 'rollout.completed':
      return e.details.gates.map(describeCheck);
    case 'rollout.started':
    case 'rollout.paused':
    case 'rollout.resumed':
    case 'rollout.aborted':
      return [];
  }
}

/** The facts beside the message: for a rollout its policy and where it stands, for a flag its switch. */
function fields(e: NotificationEvent): string[] {
  if (isFlagEvent(e)) {
    return [
      `*Flag*\n${escapeSlack(e.flag.name)}`,
      `*Environment*\n${escapeSlack(e.flag.environment)}`,
      `*Kill switch*\n${e.type === 'flag.killed' ? 'on (served disabled)' : 'off'}`,
      `*By*\n${escapeSlack(e.details.actor)}`,
    ];
  }
  const r = (e as RolloutEvent).rollout;
  return [
    `*Flag*\n${escapeSlack(r.flag)}`,
    `*Environment*\n${escapeSlack(r.environment)}`,
    `*Policy*\n${escapeSlack(r.policy)}`,
    `*Step*\n${r.percentage}% (${r.state})`,
  ];
}

/** Slack's incoming-webhook shape: `text` for previews and clients without blocks, `blocks` for the rest. */
export function slackMessage(e: NotificationEvent): { text: string; blocks: object[] } {
  const text = headline(e);
  const lines = detailLines(e);
  // A link only when it can be clicked: a path on the controller (PUBLIC_URL unset) cannot.
  const links = [
    ...(isAbsolute(e.links?.dashboard)
      ? [`<${escapeSlack(e.links.dashboard)}|${isFlagEvent(e) ? 'Open the flag in the dashboard' : 'Open the rollout in the dashboard'}>`]
      : []),
    ...(isAbsolute(e.links?.rollout) ? [`<${escapeSlack(e.links.rollout)}|Open the rollout in the dashboard>`] : []),
  ];
  const subject = isFlagEvent(e) ? `flag ${e.flag.name}` : `rollout ${e.rollout.id}`;
  return {
    text,
    blocks: [
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text:
            `*${escapeSlack(text)}*` +
            `${lines.length ? `\n${lines.map((l) => `• ${escapeSlack(l)}`).join('\n')}` : ''}` +
            `${links.length ? `\n${links.join(' · ')}` : ''}`,
        },
      },
      { type: 'section', fields: fields(e).map((f) => ({ type: 'mrkdwn', text: f })) },
      { type: 'context', elements: [{ type: 'mrkdwn', text: `${e.type} · ${escapeSlack(subject)} · ${e.occurredAt} · ${e.id}` }] },
    ],
  };
}

/** Slack treats &, < and > as markup; everything else from our data is shown as written. */
function escapeSlack(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
