import zhCN from './locales/zh-CN.js';

/**
 * The dashboard's languages: English (the source text) and Simplified Chinese. A string is written
 * in English where it is used, through `t`, with `{name}` placeholders; the Chinese catalog maps
 * that English text to its translation. The language is the person's choice (kept in the browser)
 * or else the browser's own.
 */
export const LOCALES = ['en', 'zh-CN'] as const;
export type Locale = (typeof LOCALES)[number];

const CHOICE = 'rollout-controller.locale';
const CATALOGS: Record<Locale, Readonly<Record<string, string>>> = { en: {}, 'zh-CN': zhCN };

function browserLocale(): Locale {
  const wanted = typeof navigator === 'undefined' ? [] : [...(navigator.languages ?? []), navigator.language];
  return wanted.some((l) => /^zh(-(CN|Hans|SG))?$/i.test(l ?? '') || /^zh-Hans/i.test(l ?? '')) ? 'zh-CN' : 'en';
}

let current: Locale | undefined;

/** The language pages are drawn in. */
export function locale(): Locale {
  if (current) return current;
  const chosen = typeof localStorage === 'undefined' ? null : localStorage.getItem(CHOICE);
  current = (LOCALES as readonly string[]).includes(chosen ?? '') ? (chosen as Locale) : browserLocale();
  return current;
}

/** The person's choice, kept for their next visit; the caller redraws the page. */
export function setLocale(next: Locale): void {
  current = next;
  localStorage.setItem(CHOICE, next);
  document.documentElement.lang = next;
}

/** `text` (English, with `{name}` placeholders) in the current language, with its values filled in. */
export function t(text: string, vars?: Record<string, string | number>): string {
  const translated = CATALOGS[locale()][text] ?? text;
  return vars ? translated.replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole)) : translated;
}

/** A number in the current language's way (grouping, decimals). */
export function formatNumber(n: number, options?: Intl.NumberFormatOptions): string {
  return new Intl.NumberFormat(locale(), options).format(n);
}

/** A date and time in the current language's way. */
export function formatDateTime(at: string | number | Date, options?: Intl.DateTimeFormatOptions): string {
  return new Intl.DateTimeFormat(locale(), options ?? { dateStyle: 'medium', timeStyle: 'medium' }).format(new Date(at));
}
