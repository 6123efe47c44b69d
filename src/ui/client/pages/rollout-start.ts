import { ApiError, getJson, postJson } from '../api.js';
import { h, render } from '../dom.js';
import { type EditorContext, checkField, commaList, field, issuesOf, selectInput, textInput } from '../editor/form.js';
import { t } from '../i18n.js';
import { controllerReason } from '../lang.js';
import { policyView } from '../policy-view.js';
import { preflightSection } from './rollout-preflight.js';
import { announce } from '../status.js';
import type { Page, RolloutWithStatus, StoredFlag } from '../types.js';
import { forEnvironment } from '../../../flags/per-environment.js';
import type { Policy } from '../../../policies/policy-schema.js';
import { stepPlans } from '../../../policies/policy-words.js';

/**
 * Starting a rollout of a flag (#/rollout-start/<flag>), or a release of it with other flags:
 * where, under which policy (shown in plain words as it is picked), when (now, or scheduled, with
 * a time before which a step is not entered). The controller checks everything: **Check before
 * starting** asks it for a dry run (every check and the pre-flight estimate, nothing written).
 */

interface StartDraft {
  environment: string;
  policy: string;
  release: boolean;
  releaseName: string;
  otherFlags: string;
  startAt: string;
  notBefore: Record<string, string>;
  restore: boolean;
  force: boolean;
  reason: string;
}

/** A datetime-local value (the browser's time zone) as ISO 8601 with its offset; empty stays empty. */
const instant = (local: string) => (local ? new Date(local).toISOString() : undefined);

function startBody(flag: string, d: StartDraft): Record<string, unknown> {
  const notBefore = Object.fromEntries(Object.entries(d.notBefore).flatMap(([pct, at]) => (at ? [[pct, instant(at)]] : [])));
  return {
    ...(d.release ? { name: d.releaseName, flags: [flag, ...commaList(d.otherFlags)] } : { flag }),
    environment: d.environment,
    policy: d.policy,
    ...(d.startAt ? { startAt: instant(d.startAt) } : {}),
    ...(Object.keys(notBefore).length ? { notBefore } : {}),
    ...(d.restore ? { restore: true } : {}),
    ...(d.force ? { force: true } : {}),
    ...(d.reason.trim() ? { reason: d.reason.trim() } : {}),
  };
}

export const rolloutStartPage: Page = (main, ctx) => {
  const flagName = ctx.param ?? '';
  const form = h('form', { class: 'rollout-start', novalidate: true, 'aria-labelledby': 'start-title' });
  const outcome = h('div', { id: 'start-outcome', role: 'alert' });
  const check = h('div', { id: 'start-check', 'aria-live': 'polite' });
  let flag: StoredFlag | undefined;
  let policies: Policy[] = [];
  let environments: string[] = [];
  const d: StartDraft = {
    environment: ctx.query.get('env') ?? '',
    policy: '',
    release: false,
    releaseName: '',
    otherFlags: '',
    startAt: '',
    notBefore: {},
    restore: false,
    force: false,
    reason: '',
  };
  // A change makes the last check's answer stale: it is cleared.
  const editor: EditorContext = { issues: new Map(), redraw: () => draw(), touched: () => render(check) };

  function draw(): void {
    const policy = policies.find((p) => p.name === d.policy);
    const killed = flag ? forEnvironment(flag.killSwitches, d.environment) : undefined;
    render(
      form,
      field(
        editor,
        t('Environment'),
        'environment',
        selectInput(
          editor,
          d.environment,
          environments.map((e) => [e, e]),
          (v) => (d.environment = v),
          editor.redraw,
        ),
      ),
      field(
        editor,
        t('Policy'),
        'policy',
        selectInput(
          editor,
          d.policy,
          policies.map((p) => [p.name, p.description ? `${p.name}: ${p.description}` : p.name]),
          (v) => {
            d.policy = v;
            d.notBefore = {};
          },
          editor.redraw,
        ),
      ),
      policy ? policyView(policy) : h('p', { class: 'muted' }, t('No policy yet: an admin writes one first.')),
      checkField(editor, t('Ramp other flags with it, as one release'), 'release', d.release, (on) => {
        d.release = on;
        draw();
      }),
      d.release
        ? [
            field(
              editor,
              t('Release name'),
              'name',
              textInput(editor, d.releaseName, (v) => (d.releaseName = v.trim())),
            ),
            field(
              editor,
              t('Other flags of the release'),
              'flags',
              textInput(editor, d.otherFlags, (v) => (d.otherFlags = v)),
              t('Comma-separated. The same users get every flag at each step.'),
            ),
          ]
        : null,
      h('h2', {}, t('When')),
      field(
        editor,
        t('Start at'),
        'startAt',
        textInput(editor, d.startAt, (v) => (d.startAt = v), { type: 'datetime-local' }),
        t('Empty: now. In your browser’s time zone; until then the rollout is scheduled.'),
      ),
      policy
        ? stepPlans(policy)
            .slice(1)
            .map((s) =>
              field(
                editor,
                t('Not before entering {pct} %', { pct: s.percentage }),
                `notBefore.${s.percentage}`,
                textInput(editor, d.notBefore[String(s.percentage)] ?? '', (v) => (d.notBefore[String(s.percentage)] = v), { type: 'datetime-local' }),
              ),
            )
        : null,
      killed
        ? checkField(
            editor,
            t('{env} has the flag killed ({reason}): clear the kill switch as the rollout starts', { env: d.environment, reason: killed.reason }),
            'restore',
            d.restore,
            (on) => (d.restore = on),
          )
        : null,
      checkField(editor, t('Start even if the flag’s traffic already fails a gate (recorded as a warning)'), 'force', d.force, (on) => (d.force = on)),
      field(
        editor,
        t('Reason'),
        'reason',
        textInput(editor, d.reason, (v) => (d.reason = v)),
      ),
      check,
      outcome,
      h(
        'div',
        { class: 'toolbar' },
        h('button', { type: 'button', class: 'secondary', disabled: !policy, onClick: () => void dryRun() }, t('Check before starting')),
        h('button', { type: 'submit', class: 'primary', disabled: !policy }, d.release ? t('Start release') : t('Start rollout')),
      ),
    );
  }

  const path = (dry: boolean) => `${d.release ? '/api/admin/releases' : '/api/admin/rollouts'}${dry ? '?dryRun=true' : ''}`;

  const refused = (err: unknown, why: string) => {
    editor.issues = issuesOf(err);
    draw();
    const violations = err instanceof ApiError ? (err.details?.violations ?? []) : [];
    render(
      outcome,
      h('p', { class: 'error-text', id: 'start-error' }, why),
      violations.length
        ? h(
            'ul',
            { class: 'violations' },
            violations.map((v) => h('li', {}, controllerReason({ reason: v.text, reasonWording: v.textWording }))),
          )
        : null,
    );
  };

  /** What the start would say, with nothing written. */
  async function dryRun(): Promise<void> {
    render(outcome);
    render(check);
    try {
      const would = await postJson<RolloutWithStatus>(path(true), startBody(flagName, d));
      render(
        check,
        h('p', { id: 'start-check-verdict' }, t('The controller would start it: every check passes.')),
        preflightSection(would) ?? h('p', { class: 'muted' }, t('No pre-flight estimate: the controller reads no outcomes.')),
      );
    } catch (err) {
      refused(err, t('It would not start: {why}', { why: (err as Error).message }));
    }
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    render(outcome);
    try {
      const started = await postJson<RolloutWithStatus>(path(false), startBody(flagName, d));
      announce(t('Rollout of {flag} started', { flag: flagName }));
      location.hash = `#/rollouts/${encodeURIComponent(started.id)}`;
    } catch (err) {
      refused(err, t('Not started: {why}', { why: (err as Error).message }));
    }
  });

  render(
    main,
    h('p', { class: 'crumbs' }, h('a', { href: `#/flags/${encodeURIComponent(flagName)}` }, t('← Back'))),
    h('h1', { id: 'start-title' }, t('Start a rollout of {flag}', { flag: flagName })),
    ctx.can('rollouts:start') ? form : h('p', { class: 'muted' }, t('Your role ({role}) cannot start rollouts.', { role: ctx.me.role })),
  );
  if (ctx.can('rollouts:start')) {
    Promise.all([
      getJson<StoredFlag>(`/api/admin/flags/${encodeURIComponent(flagName)}`),
      getJson<{ policies: Policy[] }>('/api/admin/policies'),
      getJson<{ environments: Array<{ name: string }> }>('/api/admin/environments'),
    ])
      .then(([f, p, e]) => {
        flag = f;
        policies = p.policies.sort((a, b) => a.name.localeCompare(b.name));
        environments = e.environments.map((x) => x.name).sort();
        if (!environments.includes(d.environment)) d.environment = environments.includes('production') ? 'production' : (environments[0] ?? '');
        d.policy = policies[0]?.name ?? '';
        d.releaseName = flagName;
        draw();
      })
      .catch((err: unknown) => render(outcome, h('p', { class: 'error-text' }, (err as Error).message)));
  }
  return () => {};
};
