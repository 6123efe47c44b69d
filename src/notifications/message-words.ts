import { english, type Words } from '../policies/policy-words.js';
// State and unit words read the same in a notification as on the dashboard: their translations
// are taken from the dashboard's catalog, as the go-live report does (one source for each).
import dashboardZhCN from '../ui/client/locales/zh-CN.js';
import type { MessageLanguage } from './message.js';
import { HEADLINES_ZH, LINES_ZH } from './message-zh-CN.js';

const CATALOGS: Record<MessageLanguage, Readonly<Record<string, string>> | undefined> = {
  en: undefined,
  'zh-CN': { ...dashboardZhCN, ...LINES_ZH, ...HEADLINES_ZH },
};

/** The sentences of a message (headline.ts, message-lines.ts, reason-wording.ts) in a webhook's language; English where the catalog has none. */
export function messageWords(language: MessageLanguage): Words {
  const catalog = CATALOGS[language];
  return catalog ? (template, vars) => english(catalog[template] ?? template, vars) : english;
}
