import { ApiError } from '../api.js';
import { h } from '../dom.js';
import { t } from '../i18n.js';

/**
 * The editor's fields: each control carries the API path of the value it edits (data-path, e.g.
 * `environments.production.strategies[0].constraints[1].value`), so a refusal from the API, whose
 * `details.issues` name those paths, is shown next to the field it is about.
 */

export interface EditorContext {
  /** The API's problems by path, from the last refused save. */
  issues: Map<string, string[]>;
  /** The structure changed (a row added, removed or moved): draw again. */
  redraw(): void;
  /** A value changed: what was reviewed is no longer what would be saved. */
  touched(): void;
  /**
   * Rollouts whose strategy is protected (running, awaiting approval, completed: they guard the
   * percentage they set). Absent: every rollout-owned strategy is.
   */
  guardingRollouts?: ReadonlySet<string>;
  /** The segments there are, offered by id and name where a strategy names segments. */
  segments?: ReadonlyArray<{ id: number; name?: string }>;
}

/** An element id from an API path. */
export const idOf = (path: string) => `ed-${path.replace(/[^A-Za-z0-9_-]/g, '-')}`;

/** The messages for this path, tied to the control for screen readers. */
function issuesFor(ctx: EditorContext, path: string, control: HTMLElement): HTMLElement | null {
  const messages = ctx.issues.get(path);
  if (!messages?.length) return null;
  const id = `${idOf(path)}-issue`;
  control.setAttribute('aria-describedby', [control.getAttribute('aria-describedby'), id].filter(Boolean).join(' '));
  control.setAttribute('aria-invalid', 'true');
  return h('p', { id, class: 'error-text field-issue', 'data-issue-path': path }, messages.join(' '));
}

/** A labelled control with its problems, if any. */
export function field(ctx: EditorContext, label: string, path: string, control: HTMLElement, help?: string): HTMLElement {
  control.id = idOf(path);
  control.dataset.path = path;
  control.dataset.key = path;
  const helpText = help ? h('p', { id: `${idOf(path)}-help`, class: 'muted small' }, help) : null;
  if (helpText) control.setAttribute('aria-describedby', helpText.id);
  const issue = issuesFor(ctx, path, control);
  return h('div', { class: 'field' }, h('label', { for: control.id }, label), control, helpText, issue);
}

/** A checkbox with its label after it. */
export function checkField(ctx: EditorContext, label: string, path: string, checked: boolean, set: (on: boolean) => void): HTMLElement {
  const box = h('input', { type: 'checkbox', id: idOf(path), 'data-path': path, 'data-key': path, checked });
  box.addEventListener('change', () => {
    set(box.checked);
    ctx.touched();
  });
  return h('div', { class: 'field check' }, box, h('label', { for: box.id }, label), issuesFor(ctx, path, box));
}

/** A one-line text (or number) input bound to a value. */
export function textInput(
  ctx: EditorContext,
  value: string,
  set: (text: string) => void,
  props: Record<string, string | number | boolean> = {},
): HTMLInputElement {
  const input = h('input', { value, autocomplete: 'off', spellcheck: 'false', ...props });
  input.addEventListener('input', () => {
    set(input.value);
    ctx.touched();
  });
  return input;
}

/** A list edited one entry per line. */
export function linesInput(ctx: EditorContext, values: readonly string[], set: (values: string[]) => void): HTMLTextAreaElement {
  const area = h('textarea', { rows: Math.min(8, Math.max(2, values.length + 1)), spellcheck: 'false' }, values.join('\n'));
  area.addEventListener('input', () => {
    set(
      area.value
        .split('\n')
        .map((v) => v.trim())
        .filter(Boolean),
    );
    ctx.touched();
  });
  return area;
}

/** A select of `options` ([value, label]), bound to a value; `after` runs once the value is set (to redraw). */
export function selectInput(
  ctx: EditorContext,
  value: string,
  options: Array<[string, string]>,
  set: (v: string) => void,
  after?: () => void,
): HTMLSelectElement {
  const known = options.some(([v]) => v === value) ? options : [...options, [value, value] as [string, string]];
  const select = h(
    'select',
    {},
    known.map(([v, label]) => h('option', { value: v, selected: v === value }, label)),
  );
  select.addEventListener('change', () => {
    set(select.value);
    ctx.touched();
    after?.();
  });
  return select;
}

/** Move up, move down and remove buttons for entry `i` of `list`, named after `what` for screen readers. */
export function rowButtons<T>(ctx: EditorContext, list: T[], i: number, what: string, options: { move?: boolean } = {}): HTMLElement {
  const act = (label: string, run: () => void, disabled = false) =>
    h(
      'button',
      {
        type: 'button',
        class: 'secondary small',
        disabled,
        onClick: () => {
          run();
          ctx.touched();
          ctx.redraw();
        },
      },
      label,
    );
  const swap = (a: number, b: number) => {
    [list[a], list[b]] = [list[b]!, list[a]!];
  };
  return h(
    'div',
    { class: 'toolbar row-buttons' },
    options.move ? act(t('Move {what} up', { what }), () => swap(i, i - 1), i === 0) : null,
    options.move ? act(t('Move {what} down', { what }), () => swap(i, i + 1), i === list.length - 1) : null,
    act(t('Remove {what}', { what }), () => list.splice(i, 1)),
  );
}

/** A button that adds an entry and draws again. */
export function addButton(ctx: EditorContext, label: string, add: () => void): HTMLElement {
  return h(
    'button',
    {
      type: 'button',
      class: 'secondary',
      onClick: () => {
        add();
        ctx.touched();
        ctx.redraw();
      },
    },
    label,
  );
}

/** Comma-separated text as a list. */
export const commaList = (text: string) =>
  text
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);

/** A refusal's issues by the path of the field they are about (a path parameter's as the field's own). */
export function issuesOf(err: unknown): Map<string, string[]> {
  const issues = new Map<string, string[]>();
  for (const issue of err instanceof ApiError ? (err.details?.issues ?? []) : []) {
    const path = issue.path.replace(/^params\./, '');
    issues.set(path, [...(issues.get(path) ?? []), issue.message]);
  }
  return issues;
}
