import { ApiError, getJson, request, sendJson } from '../api.js';
import { h, render } from '../dom.js';
import { addButton, type EditorContext, field, issuesOf, textInput } from '../editor/form.js';
import { constraintEditor, contextNames } from '../editor/constraint-editor.js';
import { t } from '../i18n.js';
import { announce, showError } from '../status.js';
import type { Page } from '../types.js';
import { dataTable } from '../widgets.js';
import type { Segment } from '../../../flags/schema.js';
import { MULTI_VALUE_OPERATORS } from '../../../flags/operators.js';

/**
 * Segments (#/segments): named lists of constraints that strategies name by id. Flag writers
 * create and change them here; the API validates, and its issues are shown at their fields.
 */

/** "userId IN 1, 2" — a constraint in one line. */
export function constraintText(c: Segment['constraints'][number]): string {
  const values = MULTI_VALUE_OPERATORS.has(c.operator) ? c.values.join(', ') : (c.value ?? '');
  return `${c.inverted ? `${t('not')} ` : ''}${c.contextName} ${c.operator} ${values}${c.caseInsensitive ? ` (${t('any case')})` : ''}`;
}

export const segmentsPage: Page = (main, ctx) => {
  const list = h('div', { 'aria-live': 'polite' });
  const editorRegion = h('div');
  const canWrite = ctx.can('flags:write');

  const load = async () => {
    const { segments } = await getJson<{ segments: Segment[] }>('/api/admin/segments');
    render(
      list,
      segments.length
        ? dataTable({
            cls: 'segments stack',
            caption: t('Segments'),
            hideCaption: true,
            columns: [t('Id'), t('Name'), t('Constraints'), ...(canWrite ? [t('Action')] : [])],
            rows: segments.map((s) => ({
              attrs: { 'data-segment': String(s.id) },
              cells: [
                String(s.id),
                s.name ?? '',
                s.constraints.length
                  ? h(
                      'ul',
                      {},
                      s.constraints.map((c) => h('li', {}, constraintText(c))),
                    )
                  : t('none: everyone'),
                ...(canWrite
                  ? [h('button', { type: 'button', class: 'secondary', onClick: () => void edit(s.id) }, t('Change segment {id}', { id: s.id }))]
                  : []),
              ],
            })),
          })
        : h('p', { class: 'muted' }, t('No segment yet.')),
    );
  };

  const edit = async (id?: number) => {
    let etag = '"0"';
    let draft: Segment = { id: 0, name: '', constraints: [] };
    if (id !== undefined) {
      const res = await request('GET', `/api/admin/segments/${id}`);
      etag = res.headers.get('ETag') ?? etag;
      draft = (await res.json()) as Segment;
    }
    const outcome = h('div', { role: 'alert' });
    const form = h('form', { class: 'card segment-form', novalidate: true, 'aria-labelledby': 'segment-form-title' });
    const editor: EditorContext = { issues: new Map(), redraw: () => draw(), touched: () => {} };
    const draw = () =>
      render(
        form,
        contextNames(),
        h('h2', { id: 'segment-form-title' }, id === undefined ? t('New segment') : t('Change segment {id}', { id })),
        field(
          editor,
          t('Segment id'),
          'id',
          textInput(editor, id === undefined && draft.id === 0 ? '' : String(draft.id), (v) => (draft.id = Number(v)), {
            type: 'number',
            min: 0,
            step: 1,
            readonly: id !== undefined,
          }),
        ),
        field(
          editor,
          t('Name'),
          'name',
          textInput(editor, draft.name ?? '', (v) => (draft.name = v)),
        ),
        draft.constraints.map((_, i) => constraintEditor(editor, draft.constraints, i, `constraints[${i}]`)),
        addButton(editor, t('Add a constraint'), () => draft.constraints.push({ contextName: 'userId', operator: 'IN', values: [] })),
        outcome,
        h(
          'div',
          { class: 'toolbar' },
          h('button', { type: 'submit', class: 'primary' }, t('Save segment')),
          h('button', { type: 'button', class: 'secondary', onClick: () => render(editorRegion) }, t('Cancel')),
        ),
      );
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      try {
        await sendJson('PUT', `/api/admin/segments/${encodeURIComponent(String(draft.id))}`, draft, etag);
        announce(t('Segment {id} saved', { id: draft.id }));
        render(editorRegion);
        await load();
      } catch (err) {
        editor.issues = issuesOf(err);
        draw();
        const why =
          err instanceof ApiError && err.status === 412
            ? t('someone changed this segment after you opened it (or the id is taken): open it again.')
            : (err as Error).message;
        render(outcome, h('p', { class: 'error-text', id: 'segment-error' }, t('Not saved: {why}', { why })));
      }
    });
    draw();
    render(editorRegion, form);
  };

  render(
    main,
    h('h1', {}, t('Segments')),
    h('p', { class: 'muted' }, t('A segment is a named list of constraints; a strategy that names it applies only where all of them hold.')),
    canWrite
      ? h('p', { class: 'toolbar' }, h('button', { type: 'button', class: 'primary', onClick: () => void edit().catch(showError) }, t('New segment')))
      : null,
    editorRegion,
    list,
  );
  load().catch(showError);
  return () => {};
};
