import type { NotificationEvent } from '../events.js';
import { type MessageLanguage, summarize } from '../message.js';

/** Slack's incoming-webhook shape: `text` for previews and clients without blocks, `blocks` for the rest. */
export function slackMessage(e: NotificationEvent, language: MessageLanguage = 'en'): { text: string; blocks: object[] } {
  const s = summarize(e, language);
  const lines = s.lines.map((l) => `• ${escapeSlack(l)}`);
  const links = s.links.map((l) => `<${escapeSlack(l.url)}|${l.label}>`);
  return {
    text: s.title,
    blocks: [
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: `*${escapeSlack(s.title)}*${lines.length ? `\n${lines.join('\n')}` : ''}${links.length ? `\n${links.join(' · ')}` : ''}`,
        },
      },
      { type: 'section', fields: s.facts.map((f) => ({ type: 'mrkdwn', text: `*${f.label}*\n${escapeSlack(f.value)}` })) },
      { type: 'context', elements: [{ type: 'mrkdwn', text: escapeSlack(s.footer) }] },
    ],
  };
}

/** Slack treats &, < and > as markup; everything else from our data is shown as written. */
function escapeSlack(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
