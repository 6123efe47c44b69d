import { countedInWords } from '../rollouts/units.js';
import reportZhCN from './report-zh-CN.js';
// The policy's sentences (src/policies/policy-words.ts) read the same in the report as on the
// dashboard, so their translations are taken from the dashboard's catalog: one source for each.
import dashboardZhCN from '../ui/client/locales/zh-CN.js';

/**
 * The go-live report's languages. Headings, labels, state and verdict words and units are written
 * in English where they are used and looked up here, and so are the controller's reasons where the
 * history carries their wording (reason-wording.ts). What the controller or people wrote as free text
 * (comments, older reasons, the plan's descriptions) stays as written, in English, and the
 * HTML report marks it `lang="en"`.
 */
export const REPORT_LANGUAGES = ['en', 'zh-CN'] as const;
export type ReportLanguage = (typeof REPORT_LANGUAGES)[number];

/** English text (with `{name}` placeholders) → the report's language, values filled in. */
export type Words = ((english: string, vars?: Record<string, string | number>) => string) & { lang: ReportLanguage };

const CATALOGS: Record<ReportLanguage, Readonly<Record<string, string>>> = { en: {}, 'zh-CN': { ...dashboardZhCN, ...reportZhCN } };

export function reportWords(lang: ReportLanguage = 'en'): Words {
  const catalog = CATALOGS[lang];
  const words = (english: string, vars?: Record<string, string | number>) => {
    const text = catalog[english] ?? english;
    return vars ? text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole)) : text;
  };
  return Object.assign(words, { lang });
}

/** A value with its unit as units.ts writes it ("2,000 requests", "no data"), its unit word in the report's language. */
export function unitsIn(w: Words, english: string): string {
  return countedInWords(english, w);
}
