import type { NotificationEvent } from '../events.js';
import { type MessageLanguage, summarize, type Tone } from '../message.js';
import { cutBytes } from './markdown.js';

/**
 * Microsoft Teams, through a workflow ("When a Teams webhook request is received") or a classic
 * incoming webhook: a `message` carrying one Adaptive Card. Teams does not sign what it receives
 * (no HMAC): the workflow URL's `sig` parameter is the credential, so the whole URL is treated as a
 * secret. The card's text is in RichTextBlocks of TextRuns, which Teams shows as written (a
 * TextBlock would read markdown in what people wrote).
 */

/** Teams takes messages of up to about 28 KB: the lines are cut to leave room for the rest. */
export const TEAMS_MAX_LINES_BYTES = 16_000;

const COLOUR: Record<Tone, string> = { bad: 'Attention', warning: 'Warning', good: 'Good', info: 'Accent' };

const run = (text: string, style: Record<string, string | boolean> = {}) => ({ type: 'TextRun', text, ...style });
const paragraph = (...inlines: object[]) => ({ type: 'RichTextBlock', inlines });

export function teamsMessage(e: NotificationEvent, language: MessageLanguage = 'en'): object {
  const s = summarize(e, language);
  const lines = cutBytes(s.lines.map((l) => `• ${l}`).join('\n'), TEAMS_MAX_LINES_BYTES).split('\n');
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          msteams: { width: 'Full' },
          body: [
            paragraph(run(s.title, { weight: 'Bolder', size: 'Medium', color: COLOUR[s.tone] })),
            ...lines.filter(Boolean).map((l) => paragraph(run(l))),
            ...s.facts.map((f) => paragraph(run(`${f.label}: `, { weight: 'Bolder' }), run(f.value))),
            paragraph(run(s.footer, { isSubtle: true, size: 'Small' })),
          ],
          actions: s.links.map((l) => ({ type: 'Action.OpenUrl', title: l.label, url: l.url })),
        },
      },
    ],
  };
}
