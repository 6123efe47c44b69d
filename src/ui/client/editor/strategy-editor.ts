import { h } from '../dom.js';
import { t } from '../i18n.js';
import type { Strategy } from '../../../flags/schema.js';
import { isOwnedStrategyId } from '../../../flags/rollout-ownership.js';
import { constraintEditor } from './constraint-editor.js';
import { newVariant, STICKINESS, variantEditor } from './variant-editor.js';
import { addButton, checkField, commaList, type EditorContext, field, rowButtons, selectInput, textInput } from './form.js';

/** One strategy of one environment: its kind, parameters, constraints, segments and variants. */

const STRATEGY_NAMES = ['flexibleRollout', 'default', 'userWithId', 'remoteAddress', 'applicationHostname'];
/** The parameters each built-in strategy reads; anything else is edited as `key=value` lines. */
const LIST_PARAMETER: Record<string, string> = { userWithId: 'userIds', remoteAddress: 'IPs', applicationHostname: 'hostNames' };

/** `key=value` lines for the parameters the form has no field of its own for. */
function otherParameters(ctx: EditorContext, s: Strategy, path: string, own: string[]): HTMLElement {
  const others = Object.entries(s.parameters).filter(([k]) => !own.includes(k));
  const area = h('textarea', { rows: Math.max(2, others.length + 1), spellcheck: 'false' }, others.map(([k, v]) => `${k}=${v}`).join('\n'));
  area.addEventListener('input', () => {
    const kept = Object.entries(s.parameters).filter(([k]) => own.includes(k));
    const typed = area.value
      .split('\n')
      .map((line) => line.trim())
      .filter(Boolean)
      .map((line): [string, string] => [line.split('=')[0]!.trim(), line.slice(line.indexOf('=') + 1).trim()]);
    s.parameters = Object.fromEntries([...kept, ...typed]);
    ctx.touched();
  });
  return field(ctx, t('Other parameters'), `${path}.parameters`, area, t('One key=value per line.'));
}

function parameterFields(ctx: EditorContext, s: Strategy, path: string): HTMLElement[] {
  const p = s.parameters;
  const param = (key: string) => `${path}.parameters.${key}`;
  if (s.name === 'flexibleRollout') {
    return [
      field(
        ctx,
        t('Rollout (% of users)'),
        param('rollout'),
        textInput(ctx, p.rollout ?? '', (v) => (p.rollout = v), { type: 'number', min: 0, max: 100, step: 'any' }),
      ),
      field(
        ctx,
        t('Stickiness'),
        param('stickiness'),
        selectInput(
          ctx,
          p.stickiness ?? 'default',
          STICKINESS.map((k) => [k, k]),
          (v) => (p.stickiness = v),
        ),
      ),
      field(
        ctx,
        t('Group id'),
        param('groupId'),
        textInput(ctx, p.groupId ?? '', (v) => (p.groupId = v)),
        t('Users keep their bucket across flags with the same group id.'),
      ),
      otherParameters(ctx, s, path, ['rollout', 'stickiness', 'groupId']),
    ];
  }
  const listKey = LIST_PARAMETER[s.name];
  if (listKey) {
    return [
      field(
        ctx,
        listKey,
        param(listKey),
        textInput(ctx, p[listKey] ?? '', (v) => (p[listKey] = v)),
        t('Comma-separated.'),
      ),
      otherParameters(ctx, s, path, [listKey]),
    ];
  }
  return [otherParameters(ctx, s, path, [])];
}

/** A strategy a rollout owns: shown, not edited; its percentage changes through the rollout. */
function ownedStrategy(s: Strategy): HTMLElement {
  const rolloutId = s.id!.slice('rollout:'.length);
  return h(
    'div',
    { class: 'owned-strategy' },
    h(
      'p',
      {},
      t('Rollout {id} owns this strategy: it serves {pct} % now. It changes through the rollout, not here.', {
        id: rolloutId,
        pct: s.parameters.rollout ?? '0',
      }),
    ),
    h('a', { href: `#/rollouts/${encodeURIComponent(rolloutId)}` }, t('Open rollout {id}', { id: rolloutId })),
  );
}

export function strategyEditor(ctx: EditorContext, list: Strategy[], i: number, path: string): HTMLElement {
  const s = list[i]!;
  const what = t('strategy {n}', { n: i + 1 });
  const owner = isOwnedStrategyId(s.id) ? s.id!.slice('rollout:'.length) : undefined;
  // A rolled-back or aborted rollout no longer guards its strategy: it is edited like any other.
  const owned = owner !== undefined && (ctx.guardingRollouts?.has(owner) ?? true);
  const body = owned
    ? [ownedStrategy(s)]
    : [
        field(
          ctx,
          t('Strategy'),
          `${path}.name`,
          selectInput(
            ctx,
            s.name,
            STRATEGY_NAMES.map((n) => [n, n]),
            (n) => (s.name = n),
            ctx.redraw,
          ),
        ),
        field(
          ctx,
          t('Title'),
          `${path}.title`,
          textInput(ctx, s.title ?? '', (v) => (s.title = v || undefined)),
        ),
        checkField(ctx, t('Disabled (kept but not evaluated)'), `${path}.disabled`, s.disabled ?? false, (on) => (s.disabled = on || undefined)),
        ...parameterFields(ctx, s, path),
        h('h3', {}, t('Constraints')),
        ...s.constraints.map((_, k) => constraintEditor(ctx, s.constraints, k, `${path}.constraints[${k}]`)),
        addButton(ctx, t('Add a constraint to {what}', { what }), () => s.constraints.push({ contextName: 'userId', operator: 'IN', values: [] })),
        field(
          ctx,
          t('Segments (ids)'),
          `${path}.segments`,
          textInput(ctx, (s.segments ?? []).join(', '), (v) => {
            const ids = commaList(v).map(Number);
            s.segments = ids.length ? ids : undefined;
          }),
          [
            t('Comma-separated segment ids; every segment’s constraints must hold too.'),
            ctx.segments?.length ? t('Segments: {list}.', { list: ctx.segments.map((g) => (g.name ? `${g.id} (${g.name})` : String(g.id))).join(', ') }) : '',
          ]
            .filter(Boolean)
            .join(' '),
        ),
        h('h3', {}, t('Variants')),
        ...(s.variants ?? []).map((_, k) => variantEditor(ctx, s.variants!, k, `${path}.variants[${k}]`, t('variant {n}', { n: k + 1 }))),
        addButton(ctx, t('Add a variant to {what}', { what }), () => (s.variants = [...(s.variants ?? []), newVariant((s.variants?.length ?? 0) + 1)])),
      ];
  return h(
    'fieldset',
    { class: 'card strategy', 'data-strategy': String(i), 'data-owned': String(owned) },
    h('legend', {}, `${what}${owned ? ` · ${t('owned by a rollout')}` : ''}`),
    ...body,
    owned ? null : rowButtons(ctx, list, i, what, { move: true }),
  );
}
