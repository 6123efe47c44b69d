import { createHmac } from 'node:crypto';
import type { NotificationEvent } from '../events.js';
import { type MessageLanguage, summarize } from '../message.js';
import { fitMarkdown, markdownParts } from './markdown.js';

/**
 * DingTalk custom robots (自定义机器人). The message is `msgtype: markdown` with a title (what the
 * chat list previews) and the text. Signing (加签) is DingTalk's own: the robot's secret (SEC…) is
 * the HMAC-SHA256 key over "<timestamp>\n<secret>", timestamp in milliseconds, and the base64 of it
 * goes in the `sign` query parameter beside `timestamp`, URL-encoded. DingTalk refuses a timestamp
 * more than an hour from its clock, so a captured request cannot be replayed later.
 */

/** Room for the markdown text; DingTalk's own limit is larger, a readable message far smaller. */
export const DINGTALK_MAX_TEXT_BYTES = 20_000;

export function dingtalkSign(secret: string, timestampMs: number): string {
  return createHmac('sha256', secret).update(`${timestampMs}\n${secret}`).digest('base64');
}

/** The robot's URL (with its access_token) plus `timestamp` and `sign`. */
export function dingtalkSignedUrl(url: string, secret: string, timestampMs: number): string {
  const signed = new URL(url);
  signed.searchParams.set('timestamp', String(timestampMs));
  signed.searchParams.set('sign', dingtalkSign(secret, timestampMs));
  return signed.toString();
}

export function dingtalkMessage(e: NotificationEvent, language: MessageLanguage = 'en'): { msgtype: 'markdown'; markdown: { title: string; text: string } } {
  const s = summarize(e, language);
  const md = markdownParts(s);
  const text = fitMarkdown(`#### ${md.title}`, md.lines, [md.facts.join('  \n'), '', ...md.links], DINGTALK_MAX_TEXT_BYTES);
  return { msgtype: 'markdown', markdown: { title: s.title, text } };
}
