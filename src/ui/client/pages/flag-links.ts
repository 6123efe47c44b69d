import { h } from '../dom.js';
import { t } from '../i18n.js';
import type { PageContext, StoredFlag } from '../types.js';
import { forEnvironment } from '../../../flags/per-environment.js';
import { isOwnedStrategyId } from '../../../flags/rollout-ownership.js';

/** From a flag's page: change it, or start a rollout of it, as the role allows. */
export function flagLinks(name: string, ctx: PageContext): HTMLElement | null {
  const links = [
    ctx.can('flags:write') ? h('a', { href: `#/flag-edit/${encodeURIComponent(name)}`, class: 'button' }, t('Edit flag')) : null,
    ctx.can('rollouts:start') ? h('a', { href: `#/rollout-start/${encodeURIComponent(name)}`, class: 'button' }, t('Start a rollout')) : null,
  ].filter((l) => l !== null);
  return links.length ? h('p', { class: 'toolbar' }, links) : null;
}

/** Which strategy of the flag a rollout owns in `env` (it changes through that rollout), with a link to it. */
export function ownedLine(flag: StoredFlag, env: string): HTMLElement | null {
  const strategies = forEnvironment(flag.environments, env)?.strategies ?? [];
  const i = strategies.findIndex((s) => isOwnedStrategyId(s.id));
  if (i < 0) return null;
  const rolloutId = strategies[i]!.id!.slice('rollout:'.length);
  return h(
    'p',
    { class: 'owned-strategy', 'data-owner': rolloutId },
    t('Strategy {n} ({pct} %) is owned by a rollout: ', { n: i + 1, pct: strategies[i]!.parameters.rollout ?? '0' }),
    h('a', { href: `#/rollouts/${encodeURIComponent(rolloutId)}` }, t('Open rollout {id}', { id: rolloutId })),
  );
}
