import { say, type Wording } from '../../rollouts/reason-wording.js';
import { countedInWords } from '../../rollouts/units.js';
import { type Child, h } from './dom.js';
import { LOCALES, type Locale, locale, setLocale, t } from './i18n.js';
import { clearStatus } from './status.js';

/**
 * The language on the page itself: data shown as it is (names, ids, codes) is marked so that
 * translation tools leave it alone and the untranslated-text test knows it is not UI text; text the
 * controller wrote in English (reasons, rules) is marked `lang="en"`, so a screen reader reading a
 * Chinese page pronounces it as English.
 */

/** A value shown as it is: a flag, environment, policy or person's name, an id, a code. */
export function raw(text: string | number): HTMLElement {
  return h('span', { translate: 'no', 'data-raw': '' }, String(text));
}

/** Free text from the controller, which writes it in English. */
export function fromServer(text: string, tag: 'span' | 'p' | 'div' = 'span'): HTMLElement {
  return h(tag, { lang: 'en' }, text);
}

/**
 * A reason the controller wrote into a rollout's history: in the page's language when it was worded
 * (reason-wording.ts, the same sentences as notifications and the report), with names, comments and
 * rules marked as data; an older entry, kept as text only, as the controller wrote it.
 */
export function controllerReason(d: { reason: string; reasonWording?: Wording }): HTMLElement {
  return d.reasonWording ? inPageLanguage(d.reasonWording) : fromServer(d.reason);
}

/** The same as plain text, for where no element can go (a confirmation's message): worded in the page's language, else as written. */
export const controllerReasonText = (d: { reason: string; reasonWording?: Wording }): string => (d.reasonWording ? say(d.reasonWording, t) : d.reason);

/** A sentence the controller words (its English is `say(w)`), in the page's language. */
export function inPageLanguage(w: Wording): HTMLElement {
  return h('span', { class: 'reason' }, wordedParts(w));
}

function wordedParts(s: Wording): Child[] {
  return t(s.template)
    .split(/(\{\w+\})/)
    .map((part) => {
      const name = /^\{(\w+)\}$/.exec(part)?.[1];
      const v = name === undefined ? undefined : s.values[name];
      if (v === undefined) return part;
      if (typeof v === 'number') return String(v);
      if (typeof v === 'string') return v ? raw(v) : '';
      return 'units' in v ? countedInWords(v.units, t) : wordedParts(v);
    });
}

const NAMES: Record<Locale, string> = { en: 'English', 'zh-CN': '简体中文' };

/** Texts of the static page (index.html) carry their English in data-t and are filled in the current language. */
export function localizeShell(): void {
  document.documentElement.lang = locale();
  // A page link added to the nav without data-t is taken to be written in English.
  for (const link of document.querySelectorAll<HTMLElement>('#nav a:not([data-t])')) link.dataset.t = link.textContent?.trim() ?? '';
  for (const el of document.querySelectorAll<HTMLElement>('[data-t]')) el.textContent = t(el.dataset.t ?? '');
  document.querySelector('#nav')?.setAttribute('aria-label', t('Main'));
}

/** The top bar's language picker: each language named in itself; choosing one redraws the page and clears the status line. */
export function languageSwitch(redraw: () => void): HTMLElement {
  const select = h(
    'select',
    { id: 'language', 'aria-label': t('Language'), 'data-key': 'language' },
    LOCALES.map((l) => h('option', { value: l, lang: l, selected: l === locale() }, NAMES[l])),
  );
  select.addEventListener('change', () => {
    setLocale(select.value as Locale);
    localizeShell();
    clearStatus();
    select.setAttribute('aria-label', t('Language'));
    redraw();
  });
  return select;
}
