import { h } from '../dom.js';
import { t } from '../i18n.js';
import type { Constraint } from '../../../flags/schema.js';
import { MULTI_VALUE_OPERATORS, OPERATORS } from '../../../flags/operators.js';
import { checkField, type EditorContext, field, linesInput, rowButtons, selectInput, textInput } from './form.js';

/** One constraint (of a strategy or a segment): its context field, operator, and the value editor that operator takes. */

function operatorHelp(operator: string): string {
  if (MULTI_VALUE_OPERATORS.has(operator)) return t('One value per line.');
  if (operator.startsWith('NUM_')) return t('A number.');
  if (operator.startsWith('DATE_')) return t('A date and time in ISO 8601, e.g. 2026-01-18T10:00:00Z.');
  if (operator.startsWith('SEMVER_')) return t('A semantic version, e.g. 1.2.3.');
  if (operator === 'REGEX') return t('A regular expression.');
  return '';
}

/** Switching between a list operator and a one-value one keeps what was typed. */
function setOperator(c: Constraint, operator: string): void {
  const wasMulti = MULTI_VALUE_OPERATORS.has(c.operator);
  c.operator = operator;
  if (MULTI_VALUE_OPERATORS.has(operator) && !wasMulti) {
    c.values = c.value ? [c.value] : [];
    delete c.value;
  } else if (!MULTI_VALUE_OPERATORS.has(operator) && wasMulti) {
    c.value = c.values[0] ?? '';
    c.values = [];
  }
}

export function constraintEditor(ctx: EditorContext, list: Constraint[], i: number, path: string): HTMLElement {
  const c = list[i]!;
  const what = t('constraint {n}', { n: i + 1 });
  const multi = MULTI_VALUE_OPERATORS.has(c.operator);
  const valueEditor = multi
    ? field(
        ctx,
        t('Values'),
        `${path}.values`,
        linesInput(ctx, c.values, (v) => (c.values = v)),
        operatorHelp(c.operator),
      )
    : field(
        ctx,
        t('Value'),
        `${path}.value`,
        textInput(ctx, c.value ?? '', (v) => (c.value = v), c.operator.startsWith('NUM_') ? { type: 'number', step: 'any' } : {}),
        operatorHelp(c.operator),
      );
  const caseMatters = c.operator.startsWith('STR_') || c.operator === 'IN' || c.operator === 'NOT_IN';
  return h(
    'fieldset',
    { class: 'constraint', 'data-constraint': String(i) },
    h('legend', {}, what),
    field(
      ctx,
      t('Context field'),
      `${path}.contextName`,
      contextNameInput(ctx, c.contextName, (v) => (c.contextName = v)),
    ),
    field(
      ctx,
      t('Operator'),
      `${path}.operator`,
      selectInput(
        ctx,
        c.operator,
        OPERATORS.map((o) => [o, o]),
        (o) => setOperator(c, o),
        ctx.redraw,
      ),
    ),
    valueEditor,
    caseMatters
      ? checkField(ctx, t('Ignore case'), `${path}.caseInsensitive`, c.caseInsensitive ?? false, (on) => (c.caseInsensitive = on || undefined))
      : null,
    checkField(ctx, t('Inverted (matches when the condition does not hold)'), `${path}.inverted`, c.inverted ?? false, (on) => (c.inverted = on || undefined)),
    rowButtons(ctx, list, i, what),
  );
}

/** A context field's name, with the usual ones offered (contextNames) while typing. */
export const contextNameInput = (ctx: EditorContext, value: string, set: (name: string) => void) => textInput(ctx, value, set, { list: 'context-names' });

/** The context fields offered while typing a constraint's (any other name may be typed). */
export function contextNames(): HTMLElement {
  return h(
    'datalist',
    { id: 'context-names' },
    ['userId', 'sessionId', 'remoteAddress', 'environment', 'appName', 'currentTime'].map((n) => h('option', { value: n })),
  );
}
