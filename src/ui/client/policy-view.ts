import { stringify } from 'yaml';
import { h } from './dom.js';
import { raw } from './lang.js';
import { t } from './i18n.js';
import { dataTable } from './widgets.js';
import { formatDuration } from '../../policies/duration-text.js';
import type { Policy } from '../../policies/policy-schema.js';
import { gateRule, onGateFailureText, rollbackRule, sharedBreachText, stepPlans, trafficRules, watchText, windowsText } from '../../policies/policy-words.js';

/**
 * A rollout policy in plain words (steps, gates, rollback rules, windows), worded by the same code
 * as the go-live report, with its YAML. Used by the policies page and when starting a rollout.
 */

function approvalText(approval: { required: number; roles: string[] }): string {
  return approval.required === 0 ? t('none') : t('{n} of: {roles}', { n: approval.required, roles: approval.roles.join(', ') });
}

function rules(title: string, lines: string[], cls: string, empty: string): HTMLElement[] {
  return [
    h('h3', {}, title),
    lines.length
      ? h(
          'ul',
          { class: cls },
          lines.map((l) => h('li', {}, l)),
        )
      : h('p', { class: 'muted' }, empty),
  ];
}

/** The policy as YAML, with durations written as the files write them ("30s") rather than milliseconds. */
export function policyYaml(policy: Policy): string {
  const withDurations = (value: unknown, key = ''): unknown => {
    if (typeof value === 'number' && /^(minDuration|maxDuration|analysisInterval|for|watchAfterCompletion)$/.test(key)) return formatDuration(value);
    if (Array.isArray(value)) return value.map((v) => withDurations(v));
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withDurations(v, k)]));
    return value;
  };
  return stringify(withDurations(policy));
}

export function policyView(policy: Policy): HTMLElement {
  const windows = windowsText(policy.windows, t);
  const watch = watchText(policy, t);
  return h(
    'section',
    { class: 'card policy', 'data-policy': policy.name, 'aria-label': t('Policy {name}', { name: policy.name }) },
    h('h2', {}, raw(policy.name)),
    policy.description ? h('p', {}, raw(policy.description)) : null,
    dataTable({
      cls: 'policy-steps stack',
      caption: t('Steps of {name}', { name: policy.name }),
      columns: [t('Step'), t('At least'), t('Samples at least'), t('At most'), t('Approvals before it')],
      rows: stepPlans(policy).map((s, i) => ({
        attrs: { 'data-step': String(s.percentage) },
        cells: [
          `${s.percentage} %`,
          formatDuration(s.minDurationMs),
          String(s.minSamples),
          formatDuration(s.maxDurationMs),
          // The first step is entered as the rollout starts: approvals gate only the steps after it.
          i === 0 ? t('none (entered at the start)') : approvalText(s.approval),
        ],
      })),
    }),
    rules(
      t('Gates: each step advances only when these hold'),
      policy.gates.map((g) => gateRule(g, t)),
      'policy-gates',
      t('No gate.'),
    ),
    policy.traffic ? rules(t('Traffic'), trafficRules(policy.traffic, t), 'policy-traffic', '') : null,
    rules(
      t('Rollback rules: any of these turns the flag off'),
      policy.rollback.map((r) => rollbackRule(r, t)),
      'policy-rollback',
      t('No rollback rule.'),
    ),
    h(
      'ul',
      { class: 'policy-behaviour' },
      h('li', {}, onGateFailureText(policy, t)),
      h('li', {}, sharedBreachText(policy, t)),
      watch ? h('li', {}, watch) : null,
    ),
    h('h3', {}, t('Change windows')),
    h('p', { class: 'policy-windows' }, windows ?? t('Always open: no window limits when steps may advance.')),
    h('details', {}, h('summary', {}, t('YAML of {name}', { name: policy.name })), h('pre', { class: 'policy-yaml' }, policyYaml(policy))),
  );
}
