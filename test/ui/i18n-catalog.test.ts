import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import zhCN from '../../src/ui/client/locales/zh-CN.js';

/**
 * The Chinese catalog against the dashboard's code: every English text written as `t('…')` in the
 * client (and every data-t text of the static page) has a translation, and each translation keeps
 * the placeholders of its English text, so no value goes missing in Chinese.
 */

const CLIENT = path.resolve('src/ui/client');

function sourcesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? (e.name === 'locales' ? [] : sourcesUnder(path.join(dir, e.name))) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : [],
  );
}

function textsPassedToT(): Map<string, string> {
  const found = new Map<string, string>();
  for (const file of sourcesUnder(CLIENT)) {
    const code = readFileSync(file, 'utf8');
    for (const m of code.matchAll(/\bt\(\s*'((?:[^'\\]|\\.)*)'/g)) found.set(m[1]!.replace(/\\'/g, "'"), path.relative(CLIENT, file));
  }
  for (const m of readFileSync(path.resolve('src/ui/static/index.html'), 'utf8').matchAll(/data-t="([^"]+)"/g)) found.set(m[1]!, 'index.html');
  return found;
}

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('the zh-CN catalog', () => {
  it('translates every text the dashboard passes to t()', () => {
    const texts = textsPassedToT();
    expect(texts.size).toBeGreaterThan(300);
    const missing = [...texts].filter(([text]) => !(text in zhCN)).map(([text, file]) => `${file}: ${text}`);
    expect(missing).toEqual([]);
  });

  it('keeps every placeholder of the English text, and no translation is left in English', () => {
    const wrong = Object.entries(zhCN).filter(([en, zh]) => placeholders(en).join() !== placeholders(zh).join());
    expect(wrong).toEqual([]);
    // Names that are the same in Chinese (Slack, URL, Webhook …) are allowed; a sentence is not.
    const untranslated = Object.entries(zhCN).filter(([en, zh]) => en === zh && /[a-z]{3,} [a-z]{3,}/i.test(en));
    expect(untranslated).toEqual([]);
  });
});
