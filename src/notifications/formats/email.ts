import type { NotificationEvent } from '../events.js';
import { type MessageLanguage, summarize, type Tone } from '../message.js';

/**
 * An e-mail per event: the summary's title as the subject (one line, cut at 200 characters), and the
 * same message as plain text and as HTML, every value escaped.
 */

const SUBJECT_MAX_CHARS = 200;
const COLOUR: Record<Tone, string> = { bad: '#b42318', warning: '#b54708', good: '#067647', info: '#175cd3' };

export interface EmailContent {
  subject: string;
  text: string;
  html: string;
}

export function emailMessage(e: NotificationEvent, language: MessageLanguage = 'en'): EmailContent {
  const s = summarize(e, language);
  const oneLine = s.title.replace(/\s+/g, ' ').trim();
  const subject = oneLine.length <= SUBJECT_MAX_CHARS ? oneLine : `${oneLine.slice(0, SUBJECT_MAX_CHARS - 1)}…`;
  const text = [
    s.title,
    '',
    ...s.lines.map((l) => `- ${l}`),
    ...(s.lines.length ? [''] : []),
    ...s.facts.map((f) => `${f.label}: ${f.value}`),
    '',
    ...s.links.map((l) => `${l.label}: ${l.url}`),
    ...(s.links.length ? [''] : []),
    '-- ',
    s.footer,
  ].join('\n');
  const html = [
    '<!doctype html><html><body style="font-family: sans-serif; line-height: 1.4">',
    `<h2 style="color: ${COLOUR[s.tone]}; font-size: 18px">${escapeHtml(s.title)}</h2>`,
    s.lines.length ? `<ul>${s.lines.map((l) => `<li>${escapeHtml(l)}</li>`).join('')}</ul>` : '',
    `<table>${s.facts.map((f) => `<tr><th align="left" style="padding-right: 12px">${escapeHtml(f.label)}</th><td>${escapeHtml(f.value)}</td></tr>`).join('')}</table>`,
    s.links.map((l) => `<p><a href="${escapeHtml(l.url)}">${escapeHtml(l.label)}</a></p>`).join(''),
    `<p style="color: #667085; font-size: 12px">${escapeHtml(s.footer)}</p>`,
    '</body></html>',
  ].join('\n');
  return { subject, text, html };
}

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}
