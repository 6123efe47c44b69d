import type { NotificationEvent } from '../events.js';
import { type MessageLanguage, summarize, type Tone } from '../message.js';
import { fitMarkdown, markdownParts } from './markdown.js';

/**
 * WeCom (企业微信) group robots. The message is `msgtype: markdown` with `markdown.content`, at most
 * 4,096 bytes of UTF-8. WeCom robots do not sign: the `key` in the robot's URL is its only
 * credential, so the whole URL is treated as a secret (shown in full to admins only, never logged).
 */

export const WECOM_MAX_CONTENT_BYTES = 4_096;

/** WeCom's three font colours: green, orange-red and grey. */
const COLOUR: Record<Tone, 'info' | 'warning' | 'comment'> = { bad: 'warning', warning: 'warning', good: 'info', info: 'comment' };

export function wecomMessage(e: NotificationEvent, language: MessageLanguage = 'en'): { msgtype: 'markdown'; markdown: { content: string } } {
  const s = summarize(e, language);
  const md = markdownParts(s);
  const head = `### <font color="${COLOUR[s.tone]}">${md.title}</font>`;
  return { msgtype: 'markdown', markdown: { content: fitMarkdown(head, md.lines, [md.facts.join('\n'), '', ...md.links], WECOM_MAX_CONTENT_BYTES) } };
}
