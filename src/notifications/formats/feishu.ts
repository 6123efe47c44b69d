import { createHmac } from 'node:crypto';
import type { NotificationEvent } from '../events.js';
import { type MessageLanguage, summarize, type Tone } from '../message.js';
import { cutBytes } from './markdown.js';

/**
 * Feishu/Lark custom bots (自定义机器人). The message is an interactive card (`msg_type:
 * interactive`) whose text is all `plain_text`, so nothing people wrote is read as markup. Signing
 * (签名校验) is Feishu's own: "<timestamp>\n<secret>" is the HMAC-SHA256 key, the message is empty,
 * and the base64 of it is `sign` in the body beside `timestamp` (seconds). Feishu refuses a
 * timestamp more than an hour from its clock.
 */

/** Feishu takes request bodies of up to 20 KB: the lines are cut to leave room for the rest of the card. */
export const FEISHU_MAX_LINES_BYTES = 12_000;

export function feishuSign(secret: string, timestampSeconds: number): string {
  return createHmac('sha256', `${timestampSeconds}\n${secret}`).update('').digest('base64');
}

const TEMPLATE: Record<Tone, string> = { bad: 'red', warning: 'orange', good: 'green', info: 'blue' };
const plain = (content: string) => ({ tag: 'plain_text', content });

export function feishuMessage(e: NotificationEvent, secret: string, timestampSeconds: number, language: MessageLanguage = 'en'): object {
  const s = summarize(e, language);
  const lines = cutBytes(s.lines.map((l) => `• ${l}`).join('\n'), FEISHU_MAX_LINES_BYTES);
  return {
    timestamp: String(timestampSeconds),
    sign: feishuSign(secret, timestampSeconds),
    msg_type: 'interactive',
    card: {
      config: { wide_screen_mode: true },
      header: { title: plain(s.title), template: TEMPLATE[s.tone] },
      elements: [
        ...(lines ? [{ tag: 'div', text: plain(lines) }] : []),
        { tag: 'div', fields: s.facts.map((f) => ({ is_short: true, text: plain(`${f.label}: ${f.value}`) })) },
        ...(s.links.length ? [{ tag: 'action', actions: s.links.map((l) => ({ tag: 'button', text: plain(l.label), type: 'primary', url: l.url })) }] : []),
        { tag: 'note', elements: [plain(s.footer)] },
      ],
    },
  };
}
