import { getJson } from '../api.js';
import { h, render } from '../dom.js';
import { t } from '../i18n.js';
import { policyView } from '../policy-view.js';
import { showError } from '../status.js';
import type { Page } from '../types.js';
import type { Policy } from '../../../policies/policy-schema.js';

/** Every rollout policy (#/policies), or one (#/policies/<name>), in plain words with its YAML. */
export const policiesPage: Page = (main, ctx) => {
  const region = h('div', { 'aria-live': 'polite' });
  render(
    main,
    ctx.param ? h('p', { class: 'crumbs' }, h('a', { href: '#/policies' }, t('← All policies'))) : null,
    h('h1', {}, ctx.param ? t('Policy {name}', { name: ctx.param }) : t('Policies')),
    region,
  );
  getJson<{ policies: Policy[] }>('/api/admin/policies')
    .then(({ policies }) => {
      const shown = policies.filter((p) => !ctx.param || p.name === ctx.param).sort((a, b) => a.name.localeCompare(b.name));
      render(region, shown.length ? shown.map((p) => policyView(p)) : h('p', { class: 'muted' }, t('No policy yet.')));
    })
    .catch(showError);
  return () => {};
};
