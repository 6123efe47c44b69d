import type { CheckResult } from '../rollouts/rollout-model.js';
import type { RolloutEvent } from './events.js';

export const WEBHOOK_FORMATS = ['json', 'slack'] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];

/** The body a webhook of `format` receives for `event`. Deterministic, so every retry sends the same bytes. */
export function renderPayload(event: RolloutEvent, format: WebhookFormat): string {
  switch (format) {
    case 'json':
      return JSON.stringify(event);
    case 'slack':
      return JSON.stringify(slackMessage(event));
  }
}

/** One sentence a person can read in a notification preview. */
export function headline(e: RolloutEvent): string {
  const what = `${e.rollout.flag} in ${e.rollout.environment}`;
  switch (e.type) {
    case 'rollout.started':
      return `Rollout of ${what} started at ${e.details.percentage}% by ${e.details.startedBy}`;
    case 'rollout.step_advanced':
      return `${what} advanced ${e.details.fromPercentage}% → ${e.details.toPercentage}% (step ${e.details.step} of ${e.details.steps})`;
    case 'rollout.awaiting_approval':
      return `${what} is waiting for approval to go to ${e.details.nextPercentage}% (${e.details.approvalsNeeded} needed from ${e.details.roles.join(' or ') || 'anyone'})`;
    case 'rollout.gate_failing':
      return `Gates failing for ${what} at ${e.rollout.percentage}%`;
    case 'rollout.paused':
      return `${what} paused at ${e.rollout.percentage}%: ${e.details.reason}`;
    case 'rollout.resumed':
      return `${what} resumed by ${e.details.by}`;
    case 'rollout.rolled_back':
      return `ROLLED BACK: ${what} was switched off at ${e.rollout.percentage}%`;
    case 'rollout.completed':
      return `${what} completed at ${e.details.percentage}%`;
    case 'rollout.aborted':
      return `${what} aborted: ${e.details.reason}`;
  }
}

/** The lines under the headline: the values behind the event. */
function detailLines(e: RolloutEvent): string[] {
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

function describeCheck(c: CheckResult): string {
  const value = c.value === null ? 'no value' : String(c.value);
  return `${c.verdict === 'fail' ? '✗' : c.verdict === 'pass' ? '✓' : '?'} ${c.rule}: ${value} over ${c.samples} requests`;
}

/** Slack's incoming-webhook shape: `text` for previews and clients without blocks, `blocks` for the rest. */
export function slackMessage(e: RolloutEvent): { text: string; blocks: object[] } {
  const text = headline(e);
  const lines = detailLines(e);
  const r = e.rollout;
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `*${escapeSlack(text)}*${lines.length ? `\n${lines.map((l) => `• ${escapeSlack(l)}`).join('\n')}` : ''}` } },
      {
        type: 'section',
        fields: [
          { type: 'mrkdwn', text: `*Flag*\n${escapeSlack(r.flag)}` },
          { type: 'mrkdwn', text: `*Environment*\n${escapeSlack(r.environment)}` },
          { type: 'mrkdwn', text: `*Policy*\n${escapeSlack(r.policy)}` },
          { type: 'mrkdwn', text: `*Step*\n${r.stepIndex + 1} at ${r.percentage}% (${r.state})` },
        ],
      },
      { type: 'context', elements: [{ type: 'mrkdwn', text: `${e.type} · rollout ${r.id} · ${e.occurredAt} · ${e.id}` }] },
    ],
  };
}

/** Slack treats &, < and > as markup; everything else from our data is shown as written. */
function escapeSlack(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
