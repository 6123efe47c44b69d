import { t } from '../i18n.js';
import { actionButton, killAction } from '../actions.js';
import { h, render } from '../dom.js';
import { dateTime } from '../format.js';
import { live } from '../live.js';
import type { Page, PageContext, StoredFlag } from '../types.js';
import { dataTable, type TableRow } from '../widgets.js';
import { forEnvironment } from '../../../flags/per-environment.js';

/** Flags per environment, with their kill switches. */

type Strategy = StoredFlag['environments'][string]['strategies'][number];

function strategyText(s: Strategy): string {
  const pct = s.parameters.rollout ?? s.parameters.percentage;
  const constraints = s.constraints.length ? `, ${s.constraints.length} constraint${s.constraints.length > 1 ? 's' : ''}` : '';
  return `${s.name}${pct !== undefined ? ` ${pct}%` : ''}${constraints}${s.disabled ? ' (disabled)' : ''}`;
}

function environmentsOf(flags: StoredFlag[]): string[] {
  return [...new Set(flags.flatMap((f) => [...Object.keys(f.environments), ...Object.keys(f.killSwitches)]))].sort();
}

function servedState(flag: StoredFlag, env: string): { text: string; cls: string } {
  if (forEnvironment(flag.killSwitches, env)) return { text: 'killed: served disabled', cls: 'state-killed' };
  const e = forEnvironment(flag.environments, env);
  if (!e) return { text: 'not defined here', cls: 'state-absent' };
  return e.enabled ? { text: 'enabled', cls: 'state-enabled' } : { text: 'disabled', cls: 'state-disabled' };
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
        h('a', { href: `#/flags/${encodeURIComponent(flag.name)}?env=${encodeURIComponent(env)}` }, flag.name),
        flag.description ? h('div', { class: 'muted small' }, flag.description) : null,
      ],
      h('span', { class: `badge ${served.cls}` }, served.text),
      strategies.length
        ? h(
            'ul',
            { class: 'plain' },
            strategies.map((s) => h('li', {}, strategyText(s))),
          )
        : h('span', { class: 'muted' }, 'none'),
      kill ? `by ${kill.actor}, ${dateTime(kill.at)}: ${kill.reason}` : h('span', { class: 'muted' }, 'off'),
      ...(ctx.can('flags:kill') ? [actionButton(killAction(flag.name, env, !kill), refresh)] : []),
    ],
  };
}

export const flagsPage: Page = (main, ctx) => {
  const picker = h('select', { id: 'env-picker', 'data-key': 'env-picker' });
  const search = h('input', { id: 'flag-search', type: 'search', placeholder: 'part of a name', 'data-key': 'flag-search', value: ctx.query.get('q') ?? '' });
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
    const head = ['Flag', 'Served', 'Strategies', 'Kill switch', ...(ctx.can('flags:kill') ? ['Action'] : [])];
    render(
      region,
      h('p', { class: 'muted' }, `${shown.length} flag${shown.length === 1 ? '' : 's'} in ${chosen || 'no environment'}`),
      dataTable({
        cls: 'flags stack',
        caption: `Flags in ${chosen}`,
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
    h('h1', {}, 'Flags'),
    ctx.can('flags:write') ? h('p', { class: 'toolbar' }, h('a', { href: '#/flag-edit', class: 'button' }, t('New flag'))) : null,
    h('div', { class: 'filters' }, h('label', { for: 'env-picker' }, 'Environment'), picker, h('label', { for: 'flag-search' }, 'Find'), search),
    region,
  );
  const poller = live<{ flags: StoredFlag[] }>('/api/admin/flags', ({ flags }) => {
    latest = [...flags].sort((a, b) => a.name.localeCompare(b.name));
    draw();
  });
  return () => poller.stop();
};
