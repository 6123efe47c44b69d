import type { NotificationEvent } from './events.js';
import { dingtalkMessage, dingtalkSignedUrl } from './formats/dingtalk.js';
import { feishuMessage } from './formats/feishu.js';
import { slackMessage } from './formats/slack.js';
import { teamsMessage } from './formats/teams.js';
import { wecomMessage } from './formats/wecom.js';
import type { HttpFormat } from './webhook-formats.js';
import type { MessageLanguage } from './message.js';

export { slackMessage } from './formats/slack.js';
export { headline } from './message.js';

export { SIGNING, WEBHOOK_FORMATS, type HttpFormat, type WebhookFormat } from './webhook-formats.js';

/** The vendors whose answer body says whether the message was taken (formats/vendor-answers.ts), by the name errors use. */
export const ANSWERS_IN_BODY: Partial<Record<HttpFormat, string>> = { dingtalk: 'DingTalk', feishu: 'Feishu', wecom: 'WeCom' };

/** The body a json or slack webhook receives for `event`. Deterministic, so every retry sends the same bytes. */
export function renderPayload(event: NotificationEvent, format: 'json' | 'slack', language: MessageLanguage = 'en'): string {
  return format === 'json' ? JSON.stringify(event) : JSON.stringify(slackMessage(event, language));
}

/** One HTTP delivery as it will be sent: where, what, and whether our own signature goes with it. */
export interface HttpPlan {
  url: string;
  body: string;
  rolloutSignature: boolean;
}

/**
 * The request for a webhook of an HTTP format, at `nowMs` (vendor signatures carry the time, so a
 * DingTalk URL or a Feishu body differs from one attempt to the next; the others do not).
 */
export function httpPlan(
  webhook: { format: HttpFormat; url: string; secret?: string; language?: MessageLanguage },
  event: NotificationEvent,
  nowMs: number,
): HttpPlan {
  const language = webhook.language ?? 'en';
  const secret = () => {
    if (!webhook.secret) throw new Error(`no signing secret stored for this ${webhook.format} webhook: set one`);
    return webhook.secret;
  };
  switch (webhook.format) {
    case 'json':
    case 'slack':
      return { url: webhook.url, body: renderPayload(event, webhook.format, language), rolloutSignature: true };
    case 'dingtalk':
      return { url: dingtalkSignedUrl(webhook.url, secret(), nowMs), body: JSON.stringify(dingtalkMessage(event, language)), rolloutSignature: false };
    case 'feishu':
      return { url: webhook.url, body: JSON.stringify(feishuMessage(event, secret(), Math.floor(nowMs / 1000), language)), rolloutSignature: false };
    case 'wecom':
      return { url: webhook.url, body: JSON.stringify(wecomMessage(event, language)), rolloutSignature: false };
    case 'teams':
      return { url: webhook.url, body: JSON.stringify(teamsMessage(event, language)), rolloutSignature: false };
  }
}
