import { ApiError, getJson, request, sendJson } from '../api.js';
import { h, render } from '../dom.js';
import { t } from '../i18n.js';
import { raw } from '../lang.js';
import { announce } from '../status.js';
import type { Page, StoredFlag } from '../types.js';
import { addButton, checkField, commaList, type EditorContext, field, issuesOf, rowButtons, textInput } from '../editor/form.js';
import { contextNames } from '../editor/constraint-editor.js';
import { strategyEditor } from '../editor/strategy-editor.js';
import { newVariant, variantEditor } from '../editor/variant-editor.js';
import { diffJson, formatChange } from '../../../cli/json-diff.js';
import type { FlagDefinition, FlagEnvironment } from '../../../flags/schema.js';
import { guardsPercentage, ownedStrategies } from '../../../flags/rollout-ownership.js';
import type { RolloutState } from '../../../rollouts/rollout-model.js';

/**
 * Creating a flag (#/flag-edit) or changing one (#/flag-edit/<name>): its description, dependencies
 * and per-environment state. The API validates (the editor only shapes the JSON): a refusal's
 * issues are shown next to their fields. Saving shows the differences first, and sends If-Match
 * with the version that was read, so a change someone made meanwhile is refused, not overwritten.
 */

type Draft = Omit<FlagDefinition, 'name'> & { name: string };

const emptyEnvironment = (): FlagEnvironment => ({ enabled: false, strategies: [], variants: [] });

function definitionOf(flag: StoredFlag): Draft {
  const { killSwitches: _kills, ...definition } = flag;
  return structuredClone(definition);
}

function newDraft(environments: string[]): Draft {
  return {
    name: '',
    description: '',
    type: 'release',
    project: 'default',
    stale: false,
    impressionData: false,
    dependencies: [],
    environments: Object.fromEntries(environments.map((e) => [e, emptyEnvironment()])),
  };
}

/** A moved strategy keeps its place: those with a sortOrder get their new position. */
function withSortOrder(draft: Draft): Draft {
  const out = structuredClone(draft);
  for (const env of Object.values(out.environments)) env.strategies.forEach((s, i) => s.sortOrder !== undefined && (s.sortOrder = i));
  if (!out.description) delete out.description;
  return out;
}

/** The rollouts owning a strategy of the flag that still guard the percentage they set. */
async function guardingRollouts(flag: StoredFlag): Promise<Set<string>> {
  const ids = [...new Set(ownedStrategies(flag).map((o) => o.rolloutId))];
  const states = await Promise.all(
    ids.map((id) =>
      getJson<{ state: RolloutState }>(`/api/admin/rollouts/${encodeURIComponent(id)}`).then(
        (r) => r.state,
        // A rollout that cannot be read is taken to guard its strategy: the API decides on save anyway.
        () => 'running' as const,
      ),
    ),
  );
  return new Set(ids.filter((_, i) => guardsPercentage(states[i]!)));
}

export const flagEditorPage: Page = (main, ctx) => {
  const existingName = ctx.param;
  const form = h('form', { class: 'flag-editor', novalidate: true, 'aria-labelledby': 'editor-title' });
  const review = h('div', { id: 'editor-review', 'aria-live': 'polite' });
  const outcome = h('div', { id: 'editor-outcome', role: 'alert' });
  let original: Draft | undefined;
  let draft: Draft | undefined;
  let etag: string | undefined;
  let declared: string[] = [];
  let stopped = false;

  const editor: EditorContext = {
    issues: new Map(),
    redraw: () => draw(),
    touched: () => render(review),
  };

  const environmentSection = (env: string): HTMLElement => {
    const config = draft!.environments[env];
    const path = `environments.${env}`;
    if (!config) {
      return h(
        'fieldset',
        { class: 'environment', 'data-env': env },
        h('legend', {}, raw(env)),
        h('p', { class: 'muted' }, t('Not configured in {env}: served disabled.', { env })),
        addButton(editor, t('Configure {env}', { env }), () => (draft!.environments[env] = emptyEnvironment())),
      );
    }
    return h(
      'fieldset',
      { class: 'environment', 'data-env': env },
      h('legend', {}, raw(env)),
      checkField(editor, t('Enabled in {env}', { env }), `${path}.enabled`, config.enabled, (on) => (config.enabled = on)),
      config.strategies.map((_, i) => strategyEditor(editor, config.strategies, i, `${path}.strategies[${i}]`)),
      addButton(editor, t('Add a strategy in {env}', { env }), () =>
        config.strategies.push({ name: 'flexibleRollout', parameters: { rollout: '100', stickiness: 'default', groupId: draft!.name }, constraints: [] }),
      ),
      h('h3', {}, t('Variants in {env}', { env })),
      h('p', { class: 'muted small' }, t('Served when the flag is on and the strategy that matched has no variants of its own.')),
      config.variants.map((_, k) =>
        variantEditor(editor, config.variants, k, `${path}.variants[${k}]`, t('variant {n} in {env}', { n: k + 1, env }), { overrides: true }),
      ),
      addButton(editor, t('Add a variant in {env}', { env }), () => config.variants.push(newVariant(config.variants.length + 1))),
    );
  };

  const dependencyRows = (): HTMLElement[] =>
    draft!.dependencies.map((d, i) => {
      const path = `dependencies[${i}]`;
      const what = t('dependency {n}', { n: i + 1 });
      return h(
        'fieldset',
        { class: 'dependency' },
        h('legend', {}, what),
        field(
          editor,
          t('Parent flag'),
          `${path}.feature`,
          textInput(editor, d.feature, (v) => (d.feature = v)),
        ),
        checkField(editor, t('Parent must be enabled (unticked: disabled)'), `${path}.enabled`, d.enabled ?? true, (on) => (d.enabled = on)),
        field(
          editor,
          t('Parent variants'),
          `${path}.variants`,
          textInput(editor, (d.variants ?? []).join(', '), (v) => (d.variants = commaList(v).length ? commaList(v) : undefined)),
          t('Comma-separated; empty: any variant.'),
        ),
        rowButtons(editor, draft!.dependencies, i, what),
      );
    });

  const problems = (): HTMLElement | null => {
    if (editor.issues.size === 0) return null;
    return h(
      'div',
      { class: 'card issues', id: 'editor-issues' },
      h('p', {}, t('The controller refused the flag:')),
      h(
        'ul',
        {},
        [...editor.issues].map(([path, messages]) => h('li', {}, h('code', {}, path), `: ${messages.join(' ')}`)),
      ),
    );
  };

  function draw(): void {
    if (!draft) return;
    const environments = [...new Set([...declared, ...Object.keys(draft.environments)])].sort();
    render(
      form,
      contextNames(),
      problems(),
      field(
        editor,
        t('Flag name'),
        'name',
        textInput(editor, draft.name, (v) => (draft!.name = v.trim()), existingName ? { readonly: true } : { required: true }),
      ),
      field(
        editor,
        t('Description'),
        'description',
        textInput(editor, draft.description ?? '', (v) => (draft!.description = v)),
      ),
      checkField(
        editor,
        t('Impression data: SDKs emit an impression event for every evaluation'),
        'impressionData',
        draft.impressionData,
        (on) => (draft!.impressionData = on),
      ),
      h('h2', {}, t('Dependencies')),
      dependencyRows(),
      addButton(editor, t('Add a dependency'), () => draft!.dependencies.push({ feature: '', enabled: true })),
      h('h2', {}, t('Environments')),
      environments.map(environmentSection),
      h('div', { class: 'toolbar' }, h('button', { type: 'submit', class: 'primary' }, t('Review changes'))),
    );
  }

  const showDiff = () => {
    const next = withSortOrder(draft!);
    const changes = original ? diffJson(withSortOrder(original), next) : [];
    render(
      review,
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'review-title' },
        h('h2', { id: 'review-title' }, t('Changes to save')),
        original
          ? changes.length
            ? h('pre', { class: 'diff', 'data-changes': String(changes.length) }, changes.map(formatChange).join('\n'))
            : h('p', { class: 'muted' }, t('Nothing changed.'))
          : h('pre', { class: 'diff' }, JSON.stringify(next, null, 2)),
        field(editor, t('Reason (kept in the audit log)'), 'reason', h('input', { autocomplete: 'off' })),
        h(
          'div',
          { class: 'toolbar' },
          h(
            'button',
            { type: 'button', class: 'primary', disabled: original !== undefined && changes.length === 0, onClick: () => void save(next) },
            t('Save flag'),
          ),
        ),
      ),
    );
  };

  const save = async (definition: Draft) => {
    const reason = review.querySelector<HTMLInputElement>('[data-path="reason"]')?.value.trim();
    render(outcome);
    try {
      await sendJson('PUT', `/api/admin/flags/${encodeURIComponent(definition.name)}`, { ...definition, ...(reason ? { reason } : {}) }, etag ?? '"0"');
      announce(t('Flag {name} saved', { name: definition.name }));
      location.hash = `#/flags/${encodeURIComponent(definition.name)}`;
    } catch (err) {
      refused(err);
    }
  };

  const refused = (err: unknown) => {
    editor.issues = issuesOf(err);
    render(review);
    if (err instanceof ApiError && err.status === 412) {
      render(
        outcome,
        h(
          'div',
          { class: 'card conflict', 'data-conflict': 'version' },
          h('p', {}, t('Not saved: someone changed this flag after you opened it. Load their version, then make your change again.')),
          h('button', { type: 'button', class: 'secondary', onClick: () => void reload() }, t('Load the current version')),
        ),
      );
      return;
    }
    render(outcome, h('p', { class: 'error-text' }, t('Not saved: {why}', { why: (err as Error).message })));
    draw();
  };

  async function load(): Promise<void> {
    render(outcome);
    const [envs, segments] = await Promise.all([
      getJson<{ environments: Array<{ name: string }> }>('/api/admin/environments'),
      getJson<{ segments: Array<{ id: number; name?: string }> }>('/api/admin/segments'),
    ]);
    declared = envs.environments.map((e) => e.name);
    editor.segments = segments.segments;
    if (existingName) {
      const res = await request('GET', `/api/admin/flags/${encodeURIComponent(existingName)}`);
      etag = res.headers.get('ETag') ?? undefined;
      const flag = (await res.json()) as StoredFlag;
      original = definitionOf(flag);
      draft = structuredClone(original);
      editor.guardingRollouts = await guardingRollouts(flag);
    } else draft = newDraft(declared);
    editor.issues = new Map();
    if (!stopped) draw();
  }

  const reload = () =>
    load().catch((err: unknown) => render(outcome, h('p', { class: 'error-text' }, t('Cannot load the flag: {why}', { why: (err as Error).message }))));

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    showDiff();
  });

  render(
    main,
    h('p', { class: 'crumbs' }, h('a', { href: existingName ? `#/flags/${encodeURIComponent(existingName)}` : '#/flags' }, t('← Back'))),
    h('h1', { id: 'editor-title' }, existingName ? t('Edit flag {name}', { name: existingName }) : t('New flag')),
    ctx.can('flags:write') ? [form, review, outcome] : h('p', { class: 'muted' }, t('Your role ({role}) cannot change flags.', { role: ctx.me.role })),
  );
  if (ctx.can('flags:write')) void reload();
  return () => {
    stopped = true;
  };
};
