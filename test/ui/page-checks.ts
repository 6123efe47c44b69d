import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';

/**
 * Checks run on every dashboard page by the languages test: text left in English on a Chinese page,
 * axe-core's accessibility rules, and sideways scrolling at phone width.
 */

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * Words that are the same in both languages: units, product and protocol names, and the
 * dashboard's own data in the test (environment, policy and role names). Anything else in Latin
 * letters on a zh-CN page must be marked as data (translate="no", data-raw) or as the controller's
 * English (lang="en").
 */
const SAME_IN_BOTH = new Set(
  'ms SDK SDKs URL HTML Markdown JSON Webhook API ID POST GET rolloutctl Slack DingTalk Feishu Lark WeCom Teams Microsoft HMAC SEC X-Rollout-Signature PromQL YAML'.split(
    ' ',
  ),
);

/** Visible texts and accessible names (aria-label, title, placeholder) with English words not marked as data. */
export function untranslated(page: Page, dataWords: string[]): Promise<string[]> {
  return page.evaluate(
    ({ same, data }) => {
      const allowed = new Set([...same, ...data]);
      // A textarea's text is its value: what a person typed (payloads, lists of values) is data.
      const EXEMPT = '[translate="no"], [data-raw], [lang="en"], code, pre, textarea, script, style, noscript';
      const english = (text: string) =>
        text
          // Identifiers (flag names, metric names, paths, hostnames) are data.
          .replace(/[A-Za-z0-9]+(?:[-_.:/@][A-Za-z0-9]+)+/g, ' ')
          .split(/[^A-Za-z]+/)
          .some((word) => word.length >= 2 && !allowed.has(word));
      const found = new Set<string>();
      const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const parent = node.parentElement;
        const text = node.textContent?.trim() ?? '';
        if (!parent || !text || parent.closest(EXEMPT)) continue;
        if (!parent.checkVisibility() && !parent.closest('.sr-only')) continue;
        if (english(text)) found.add(`text "${text}" in <${parent.tagName.toLowerCase()} class="${parent.className}">`);
      }
      for (const el of document.querySelectorAll<HTMLElement>('[aria-label], [title], [placeholder]')) {
        if (el.closest(EXEMPT) || el.closest('[hidden]')) continue;
        for (const attr of ['aria-label', 'title', 'placeholder']) {
          const value = el.getAttribute(attr);
          if (value && english(value)) found.add(`${attr} "${value}" on <${el.tagName.toLowerCase()}>`);
        }
      }
      if (english(document.title)) found.add(`document.title "${document.title}"`);
      return [...found];
    },
    { same: [...SAME_IN_BOTH], data: dataWords },
  );
}

/** axe-core's serious and critical violations on the page as it stands, one line each. */
export async function seriousAxeViolations(page: Page): Promise<string[]> {
  await page.evaluate(AXE_SOURCE);
  type Violation = { id: string; impact: string; help: string; nodes: Array<{ target: string[] }> };
  const violations = await page.evaluate(async () => {
    // axe-core, injected above, is a global of the page.
    const axe = (window as unknown as { axe: { run(context: Document, options: object): Promise<{ violations: Violation[] }> } }).axe;
    return (await axe.run(document, { resultTypes: ['violations'] })).violations;
  });
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/** Elements that stick out past the window's right edge (the innermost ones), or [] when nothing scrolls sideways. */
export function sidewaysOverflow(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    if (Math.max(document.documentElement.scrollWidth, document.body.scrollWidth) <= window.innerWidth) return [];
    const out = [...document.body.querySelectorAll<HTMLElement>('*')].filter(
      (el) =>
        el.getBoundingClientRect().right > window.innerWidth + 0.5 && ![...el.children].some((c) => c.getBoundingClientRect().right > window.innerWidth + 0.5),
    );
    return out
      .slice(0, 5)
      .map((el) => `<${el.tagName.toLowerCase()} id="${el.id}" class="${el.className}"> right at ${Math.round(el.getBoundingClientRect().right)} px`);
  });
}
