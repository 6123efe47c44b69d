import { actionButton, killAction } from '../actions.js';
import { type Child, h, render } from '../dom.js';
import { countedText, dateTime } from '../format.js';
import { t } from '../i18n.js';
import { raw } from '../lang.js';
import { live } from '../live.js';
import type { Page, PageContext, StoredFlag } from '../types.js';
import { dataTable, type TableRow } from '../widgets.js';
import { forEnvironment } from '../../../flags/per-environment.js';

/** Flags per environment, with their kill switches. */

type Strategy = StoredFlag['environments'][string]['strategies'][number];

function strategyText(s: Strategy): Child[] {
  const pct = s.parameters.rollout ?? s.parameters.percentage;
  const n = s.constraints.length;
  return [
    raw(s.name),
    pct !== undefined ? ` ${pct}%` : '',
    n ? (n > 1 ? t(', {n} constraints', { n }) : t(', {n} constraint', { n })) : '',
    s.disabled ? t(' (disabled)') : '',
  ];
}

function environmentsOf(flags: StoredFlag[]): string[] {
  return [...new Set(flags.flatMap((f) => [...Object.keys(f.environments), ...Object.keys(f.killSwitches)]))].sort();
}

function servedState(flag: StoredFlag, env: string): { text: string; cls: string } {
  if (forEnvironment(flag.killSwitches, env)) return { text: t('killed: served disabled'), cls: 'state-killed' };
  const e = forEnvironment(flag.environments, env);
  if (!e) return { text: t('not defined here'), cls: 'state-absent' };
  return e.enabled ? { text: t('enabled'), cls: 'state-enabled' } : { text: t('disabled'), cls: 'state-disabled' };
}

function flagRow(flag: StoredFlag, env: string, ctx: PageContext, refresh: () => void): TableRow {
  const kill = forEnvironment(flag.killSwitches, env);
  const served = servedState(flag, env);
  const strategies = forEnvironment(flag.environments, env)?.strategies ?? [];
  return {
    attrs: { 'data-flag': flag.name, 'data-env': env, 'data-served': served.cls.replace('state-', '') },
    cells: [
      [
        // Its own page: whether its state reached the SDKs, and the rollback drill.
        h('a', { href: `#/flags/${encodeURIComponent(flag.name)}?env=${encodeURIComponent(env)}`, translate: 'no' }, flag.name),
        flag.description ? h('div', { class: 'muted small', 'data-raw': '' }, flag.description) : null,
      ],
      h('span', { class: `badge ${served.cls}` }, served.text),
      strategies.length
        ? h(
            'ul',
            { class: 'plain' },
            strategies.map((s) => h('li', {}, strategyText(s))),
          )
        : h('span', { class: 'muted' }, t('none')),
      kill ? [t('by '), raw(kill.actor), `, ${dateTime(kill.at)}: `, h('span', { 'data-raw': '' }, kill.reason)] : h('span', { class: 'muted' }, t('off')),
      ...(ctx.can('flags:kill') ? [actionButton(killAction(flag.name, env, !kill), refresh)] : []),
    ],
  };
}

export const flagsPage: Page = (main, ctx) => {
  const picker = h('select', { id: 'env-picker', 'data-key': 'env-picker', translate: 'no' });
  const search = h('input', {
    id: 'flag-search',
    type: 'search',
    placeholder: t('part of a name'),
    'data-key': 'flag-search',
    value: ctx.query.get('q') ?? '',
  });
  const region = h('div');
  let latest: StoredFlag[] = [];
  let chosen = ctx.query.get('env') ?? '';
  let shownEnvs = '';

  const draw = () => {
    const envs = environmentsOf(latest);
    if (!envs.includes(chosen)) chosen = envs.includes('production') ? 'production' : (envs[0] ?? '');
    // Options are rebuilt only when the environments change, so an open list is not reset under the user.
    if (envs.join('\n') !== shownEnvs) {
      shownEnvs = envs.join('\n');
      render(
        picker,
        envs.map((e) => h('option', { value: e, selected: e === chosen }, e)),
      );
    }
    const needle = search.value.trim().toLowerCase();
    const shown = latest.filter(
      (f) => (forEnvironment(f.environments, chosen) || forEnvironment(f.killSwitches, chosen)) && f.name.toLowerCase().includes(needle),
    );
    const head = [t('Flag'), t('Served'), t('Strategies'), t('Kill switch'), ...(ctx.can('flags:kill') ? [t('Action')] : [])];
    render(
      region,
      h('p', { class: 'muted' }, countedText(shown.length, 'flag'), t(' in '), chosen ? raw(chosen) : t('no environment')),
      dataTable({
        cls: 'flags stack',
        caption: t('Flags in {env}', { env: chosen }),
        hideCaption: true,
        columns: head,
        rowHeaders: true,
        rows: shown.map((f) => flagRow(f, chosen, ctx, () => poller.refresh())),
      }),
    );
  };
  picker.addEventListener('change', () => {
    chosen = picker.value;
    draw();
  });
  search.addEventListener('input', draw);

  render(
    main,
    h('h1', {}, t('Flags')),
    ctx.can('flags:write') ? h('p', { class: 'toolbar' }, h('a', { href: '#/flag-edit', class: 'button' }, t('New flag'))) : null,
    h('div', { class: 'filters' }, h('label', { for: 'env-picker' }, t('Environment')), picker, h('label', { for: 'flag-search' }, t('Find')), search),
    region,
  );
  const poller = live<{ flags: StoredFlag[] }>('/api/admin/flags', ({ flags }) => {
    latest = [...flags].sort((a, b) => a.name.localeCompare(b.name));
    draw();
  });
  return () => poller.stop();
};
