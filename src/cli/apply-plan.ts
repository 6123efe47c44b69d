import type { FlagDefinition, Segment, StoredFlag } from '../flags/schema.js';
import type { Policy } from '../policies/policy-schema.js';
import type { Environment } from '../environments/environment-schema.js';
import { CliError, EXIT } from './exit-codes.js';
import type { Rollout } from '../rollouts/rollout-model.js';
import { describeConflict, reconcileWithRollouts, type OwnershipConflict } from '../flags/rollout-ownership.js';
import type { AdminClient } from './admin-client.js';
import { diffJson, formatChange, type FieldChange } from './json-diff.js';
import type { LocalFile } from './local-files.js';

/** What `apply` will do to one object, and why: computed against what the controller has now. */
export type PlannedChange =
  | {
      kind: 'flag';
      name: string;
      file: string;
      action: 'create' | 'update' | 'unchanged';
      changes: FieldChange[];
      definition: FlagDefinition;
      version: number;
      /** Changes of a percentage a rollout set: the server refuses them unless forced. */
      refused: OwnershipConflict[];
      /** The same, with --force: applied, and the audit log says so. */
      forced: OwnershipConflict[];
    }
  | { kind: 'policy'; name: string; file: string; action: 'create' | 'update' | 'unchanged'; changes: FieldChange[]; policy: Policy }
  | { kind: 'segment'; name: string; file: string; action: 'upsert'; changes: FieldChange[]; segment: Segment }
  | { kind: 'environment'; name: string; file: string; action: 'create' | 'update' | 'unchanged'; changes: FieldChange[]; environment: Environment };

export const pending = (plan: PlannedChange[]) => plan.filter((c) => c.action !== 'unchanged');
export const refusals = (plan: PlannedChange[]) => plan.flatMap((c) => (c.kind === 'flag' ? c.refused : []));

/** The flag as its definition: kill switches are not part of a file and are never changed by one. */
function definitionOf(flag: StoredFlag): Omit<StoredFlag, 'killSwitches'> {
  const { killSwitches: _kept, ...definition } = flag;
  return definition;
}

function versionOf(etag: string | null): number {
  return Number((etag ?? '0').replace(/^W\//, '').replace(/"/g, '')) || 0;
}

function actionOf(exists: boolean, changes: FieldChange[]): 'create' | 'update' | 'unchanged' {
  if (!exists) return 'create';
  return changes.length ? 'update' : 'unchanged';
}

/**
 * Reads what the controller has for each named flag and policy, and diffs it field by field. A flag
 * is first reconciled with the rollouts that own its strategies, exactly as the server will do it
 * (rollout-ownership.ts): the diff is against what would be stored, and a change of a percentage a
 * rollout set is a refusal unless `force`.
 */
export async function planApply(client: AdminClient, files: LocalFile[], force = false): Promise<PlannedChange[]> {
  const { rollouts } = await client.call<{ rollouts: Rollout[] }>('GET', '/api/admin/rollouts');
  const byId = new Map(rollouts.map((r) => [r.id, r]));
  const plan: PlannedChange[] = [];
  for (const f of files) {
    if (f.kind === 'environments') {
      for (const environment of f.environments) {
        const current = await client.find<Environment>(`/api/admin/environments/${encodeURIComponent(environment.name)}`);
        const changes = diffJson(current?.value, environment);
        plan.push({
          kind: 'environment',
          name: environment.name,
          file: f.file,
          action: actionOf(!!current, changes),
          changes: current ? changes : [],
          environment,
        });
      }
      continue;
    }
    if (f.kind === 'policy') {
      const current = await client.find<Policy>(`/api/admin/policies/${encodeURIComponent(f.policy.name)}`);
      const changes = diffJson(current?.value, f.policy);
      plan.push({ kind: 'policy', name: f.policy.name, file: f.file, action: actionOf(!!current, changes), changes: current ? changes : [], policy: f.policy });
      continue;
    }
    // The admin API cannot read segments back, so they are upserted whenever their file is applied.
    for (const segment of f.segments) {
      plan.push({ kind: 'segment', name: `${segment.id}${segment.name ? ` (${segment.name})` : ''}`, file: f.file, action: 'upsert', changes: [], segment });
    }
    for (const definition of f.flags) {
      const current = await client.find<StoredFlag>(`/api/admin/flags/${encodeURIComponent(definition.name)}`);
      const reconciled = reconcileWithRollouts(current?.value, definition, (id) => byId.get(id), force);
      const changes = diffJson(current ? definitionOf(current.value) : undefined, reconciled.definition);
      const action = actionOf(!!current, changes);
      plan.push({
        kind: 'flag',
        name: definition.name,
        file: f.file,
        action,
        changes: current ? changes : [],
        definition,
        version: current ? versionOf(current.etag) : 0,
        refused: reconciled.conflicts,
        forced: reconciled.forcedOver,
      });
    }
  }
  return plan;
}

export function formatPlan(plan: PlannedChange[]): string {
  const lines: string[] = [];
  for (const c of plan) {
    const note = c.kind === 'segment' ? ' (segments cannot be read back to compare; it is written as the file says)' : '';
    lines.push(`${c.kind} ${c.name} (${c.file}): ${c.action}${note}`);
    lines.push(...c.changes.map(formatChange));
    if (c.kind === 'flag') {
      lines.push(...c.refused.map((r) => `  ! ${describeConflict(r, 'the file')}; refused unless --force`));
      lines.push(...c.forced.map((r) => `  ! ${describeConflict(r, 'the file')}; applied anyway (--force)`));
    }
  }
  const todo = pending(plan);
  const refused = refusals(plan);
  lines.push('', todo.length ? `${todo.length} change(s) to apply.` : 'Nothing to apply: the controller already has what the files say.');
  if (refused.length) {
    lines.push(
      `${refused.length} of them would undo what a rollout set: nothing will be applied unless --force ` +
        '(or update the files: rolloutctl export writes what is served).',
    );
  }
  return lines.join('\n');
}

/**
 * Applies in dependency order: environments (flags may only name declared ones), segments (flags
 * refer to them), then policies, then flags with If-Match. `onApplied` gets a proposal id when the
 * controller took a policy as a proposal (an editor's token: only admins write policies).
 */
export async function applyPlan(client: AdminClient, plan: PlannedChange[], onApplied: (c: PlannedChange, proposal?: string) => void): Promise<void> {
  const todo = pending(plan);
  for (const c of todo) {
    if (c.kind === 'environment') {
      await client.call('PUT', `/api/admin/environments/${encodeURIComponent(c.name)}`, { ...c.environment, reason: `rolloutctl apply ${c.file}` });
      onApplied(c);
    }
  }
  const segments = todo.flatMap((c) => (c.kind === 'segment' ? [c.segment] : []));
  if (segments.length) {
    // Segments are global; the import route upserts them (with no features, nothing else changes),
    // but it names an environment, which must be declared: any declared one will do.
    const { environments } = await client.call<{ environments: Environment[] }>('GET', '/api/admin/environments');
    const env = environments[0]?.name;
    if (!env)
      throw new CliError(
        'segments need a declared environment to be imported through, and none is declared: ' +
          'declare one first (an environments file, or PUT /api/admin/environments/{name})',
        EXIT.usage,
      );
    await client.call('POST', `/api/admin/environments/${encodeURIComponent(env)}/import`, { features: [], segments });
    todo.filter((c) => c.kind === 'segment').forEach((c) => onApplied(c));
  }
  for (const c of todo) {
    if (c.kind === 'policy') {
      const res = await client.call<{ proposal?: { id: string } }>('PUT', `/api/admin/policies/${encodeURIComponent(c.name)}`, c.policy);
      onApplied(c, res?.proposal?.id);
    }
  }
  for (const c of todo) {
    if (c.kind === 'flag') {
      // If-Match makes the write fail (412) if someone changed the flag since the diff was shown.
      // force only where the plan showed (and the person confirmed) it overrides a rollout.
      const query = c.forced.length ? '?force=true' : '';
      await client.call(
        'PUT',
        `/api/admin/flags/${encodeURIComponent(c.name)}${query}`,
        { ...c.definition, reason: `rolloutctl apply ${c.file}` },
        { 'If-Match': `"${c.version}"` },
      );
      onApplied(c);
    }
  }
}
