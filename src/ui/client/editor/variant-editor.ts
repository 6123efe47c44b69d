import { h } from '../dom.js';
import { t } from '../i18n.js';
import type { Variant } from '../../../flags/schema.js';
import { contextNameInput } from './constraint-editor.js';
import { addButton, type EditorContext, field, linesInput, rowButtons, selectInput, textInput } from './form.js';

/**
 * One variant: of a strategy (served when that strategy matched) or of an environment (served when
 * the matching strategy has none of its own). Both have a name, a weight, a stickiness and a
 * payload; an environment's variants may also be forced for listed context values (overrides).
 */

type PayloadType = NonNullable<Variant['payload']>['type'];
type Override = NonNullable<Variant['overrides']>[number];

const PAYLOAD_TYPES = ['string', 'json', 'csv', 'number'] as const;
export const STICKINESS = ['default', 'userId', 'sessionId', 'random'];

/** A variant added by the editor: its weight shared with the others of its list. */
export const newVariant = (n: number): Variant => ({ name: `variant-${n}`, weight: 1000, weightType: 'variable', stickiness: 'default' });

function overrideEditor(ctx: EditorContext, list: Override[], i: number, path: string, of: string): HTMLElement {
  const o = list[i]!;
  const what = t('override {n} of {what}', { n: i + 1, what: of });
  return h(
    'fieldset',
    { class: 'override', 'data-override': String(i) },
    h('legend', {}, what),
    field(
      ctx,
      t('Context field'),
      `${path}.contextName`,
      contextNameInput(ctx, o.contextName, (v) => (o.contextName = v)),
    ),
    field(
      ctx,
      t('Values'),
      `${path}.values`,
      linesInput(ctx, o.values, (v) => (o.values = v)),
      t('One value per line: a context with one of them always gets this variant.'),
    ),
    rowButtons(ctx, list, i, what),
  );
}

function payloadEditor(ctx: EditorContext, v: Variant, path: string): HTMLElement | null {
  if (!v.payload) return null;
  const area = h('textarea', { rows: 3, spellcheck: 'false' }, v.payload.value);
  area.addEventListener('input', () => {
    if (v.payload) v.payload.value = area.value;
    ctx.touched();
  });
  return field(ctx, t('Payload'), `${path}.payload.value`, area);
}

/** Variant `i` of `list`, named `what` for screen readers; `overrides` for an environment's variants. */
export function variantEditor(ctx: EditorContext, list: Variant[], i: number, path: string, what: string, options: { overrides?: boolean } = {}): HTMLElement {
  const v = list[i]!;
  return h(
    'fieldset',
    { class: 'variant', 'data-variant': String(i) },
    h('legend', {}, what),
    field(
      ctx,
      t('Variant name'),
      `${path}.name`,
      textInput(ctx, v.name, (n) => (v.name = n)),
    ),
    field(
      ctx,
      t('Weight (of 1000)'),
      `${path}.weight`,
      textInput(ctx, String(v.weight), (w) => (v.weight = Number(w)), { type: 'number', min: 0, max: 1000, step: 1 }),
    ),
    field(
      ctx,
      t('Stickiness'),
      `${path}.stickiness`,
      selectInput(
        ctx,
        v.stickiness ?? 'default',
        STICKINESS.map((k) => [k, k]),
        (k) => (v.stickiness = k),
      ),
    ),
    field(
      ctx,
      t('Payload type'),
      `${path}.payload.type`,
      selectInput(
        ctx,
        v.payload?.type ?? '',
        [['', t('No payload')], ...PAYLOAD_TYPES.map((p): [string, string] => [p, p])],
        (type) => (v.payload = type ? { type: type as PayloadType, value: v.payload?.value ?? '' } : undefined),
        ctx.redraw,
      ),
    ),
    payloadEditor(ctx, v, path),
    options.overrides ? overrideList(ctx, v, path, what) : null,
    rowButtons(ctx, list, i, what),
  );
}

function overrideList(ctx: EditorContext, v: Variant, path: string, what: string): HTMLElement[] {
  return [
    ...(v.overrides ?? []).map((_, k) => overrideEditor(ctx, v.overrides!, k, `${path}.overrides[${k}]`, what)),
    addButton(ctx, t('Add an override to {what}', { what }), () => (v.overrides = [...(v.overrides ?? []), { contextName: 'userId', values: [] }])),
  ];
}
