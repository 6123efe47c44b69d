import { h } from '../dom.js';
import { t } from '../i18n.js';
import type { PageContext } from '../types.js';

/** From a flag's page: change it, or start a rollout of it, as the role allows. */
export function flagLinks(name: string, ctx: PageContext): HTMLElement | null {
  const links = [
    ctx.can('flags:write') ? h('a', { href: `#/flag-edit/${encodeURIComponent(name)}`, class: 'button' }, t('Edit flag')) : null,
    ctx.can('rollouts:start') ? h('a', { href: `#/rollout-start/${encodeURIComponent(name)}`, class: 'button' }, t('Start a rollout')) : null,
  ].filter((l) => l !== null);
  return links.length ? h('p', { class: 'toolbar' }, links) : null;
}
