import type { Summary } from '../message.js';

/**
 * Markdown for the robots that take it (DingTalk, WeCom). What people wrote (a reason, a comment,
 * an alert's summary) reaches the message as text, never as markup: what could start emphasis,
 * code, a link or an HTML tag is escaped CommonMark-style, so a reason cannot add a link that hides
 * where it goes. What cannot be markup stays as written, so the rules read as they do everywhere:
 * an underscore inside a word (error_rate), a comparison (> 5%, <= 1%).
 */
export function escapeMarkdown(text: string): string {
  return text.replace(/\r?\n/g, ' ').replace(/[\\`*[\]]|<(?=[A-Za-z/!?])|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])/g, (c) => `\\${c}`);
}

/** The parts of a markdown message, each already escaped; links as [label](url). */
export function markdownParts(s: Summary): { title: string; lines: string[]; facts: string[]; links: string[] } {
  return {
    title: escapeMarkdown(s.title),
    lines: s.lines.map((l) => `- ${escapeMarkdown(l)}`),
    facts: s.facts.map((f) => `**${escapeMarkdown(f.label)}:** ${escapeMarkdown(f.value)}`),
    // A URL is ours (PUBLIC_URL and ids), but a closing parenthesis would still end the link early.
    links: s.links.map((l) => `[${escapeMarkdown(l.label)}](${l.url.replace(/[()\s]/g, encodeURIComponent)})`),
  };
}

/**
 * Joins blocks of lines into at most `maxBytes` of UTF-8, dropping detail lines from the end (with
 * a note saying how many) rather than cutting the title, the facts or the link.
 */
export function fitMarkdown(head: string, lines: string[], tail: string[], maxBytes: number): string {
  const join = (shown: string[], dropped: number) =>
    [head, '', ...shown, ...(dropped ? [`- … and ${dropped} more (see the dashboard)`] : []), '', ...tail].join('\n').trim();
  let shown = lines;
  let text = join(shown, 0);
  while (Buffer.byteLength(text) > maxBytes && shown.length > 0) {
    shown = shown.slice(0, -1);
    text = join(shown, lines.length - shown.length);
  }
  return Buffer.byteLength(text) <= maxBytes ? text : cutBytes(text, maxBytes);
}

/** The longest start of `text` within `maxBytes` of UTF-8, ending with "…" when cut. */
export function cutBytes(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  let out = '';
  for (const ch of text) {
    if (Buffer.byteLength(`${out}${ch}…`) > maxBytes) break;
    out += ch;
  }
  return `${out}…`;
}
