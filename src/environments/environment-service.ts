import path from 'node:path';
import type { PutOp, Store } from '../store/port.js';
import { auditedCommit } from '../audit/audited-commit.js';
import type { Actor, AuditInput } from '../audit/chain.js';
import { AppError } from '../errors/app-error.js';
import { fileSourceChange } from '../files/file-sources.js';
import { FLAGS } from '../flags/collections.js';
import type { StoredFlag } from '../flags/schema.js';
import { tokenEnvironments, TOKENS, type StoredToken } from '../auth/token-model.js';
import type { Policy } from '../policies/policy-schema.js';
import { ENVIRONMENTS, type Environment } from './environment-schema.js';
import { declaredEnvironmentNames, unknownEnvironmentError } from './declared.js';
import type { EnvironmentsFile } from './environment-files.js';
import { policyViolations } from './policy-violations.js';

export const POLICY_NOT_ALLOWED = 'policy_not_allowed';
const UPGRADE: Actor = { type: 'system', id: 'upgrade', name: 'upgrade' };

/** Same content, whatever the key order a store round trip left. */
const sameEnvironment = (a: Environment, b: Environment) => JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b));
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  return value;
}

/**
 * Declared environments and their guard rails. Every write is one audited commit with the
 * state before and after; reads go to the store each time (environments are few and rarely
 * change), so every replica judges with the same rules.
 */
export class EnvironmentService {
  constructor(
    private readonly store: Store,
    private readonly now: () => Date,
    private readonly awaitApplied: (feedSeq: number) => Promise<void> = async () => {},
  ) {}

  async list(): Promise<Environment[]> {
    return (await this.store.list<Environment>(ENVIRONMENTS)).map((d) => d.value).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The environment, or 404 unknown_environment naming the declared ones. */
  async get(name: string): Promise<Environment> {
    const doc = await this.store.get<Environment>(ENVIRONMENTS, name);
    if (!doc) throw unknownEnvironmentError([name], await declaredEnvironmentNames(this.store));
    return doc.value;
  }

  /** For rollout starts: the environment, or 404 unknown_environment with `details.declared`. */
  require(name: string): Promise<Environment> {
    return this.get(name);
  }

  /**
   * Throws 422 policy_not_allowed when the policy asks for less than the environment's rules;
   * the message names every violated rule and step, `details.violations` lists them.
   * 422 rather than 409: nothing about the current state would make the same request succeed
   * later; the policy itself must change (or an admin must change the rules).
   */
  async assertPolicyAllowed(policy: Policy, environment: string | Environment): Promise<void> {
    const env = typeof environment === 'string' ? await this.require(environment) : environment;
    const violations = policyViolations(policy, env);
    if (violations.length === 0) return;
    throw new AppError(
      'refused',
      POLICY_NOT_ALLOWED,
      `policy "${policy.name}" may not be used in ${env.name}: ${violations.map((v) => `${v.rule}: ${v.message}`).join('; ')}`,
      { policy: policy.name, environment: env.name, violations },
    );
  }

  /** Declares or replaces an environment (the route lets admins only). */
  async put(env: Environment, actor: Actor, reason?: string): Promise<{ environment: Environment; created: boolean }> {
    return auditedCommit(
      this.store,
      async () => {
        const existing = await this.store.get<Environment>(ENVIRONMENTS, env.name);
        if (existing && sameEnvironment(existing.value, env)) return { commit: {}, audit: [], result: { environment: env, created: false } };
        return {
          commit: { puts: [{ collection: ENVIRONMENTS, id: env.name, value: env, expectVersion: existing?.version ?? 0 }] },
          audit: {
            actor,
            action: 'environment.put',
            target: { type: 'environment', id: env.name, environment: env.name },
            reason,
            before: existing?.value ?? null,
            after: env,
          },
          result: { environment: env, created: !existing },
        };
      },
      this.now,
      this.awaitApplied,
    );
  }

  /**
   * Applies the environments file when its content changed since it was last applied (as flag
   * and policy files are): the file wins for the environments it names when it changes, and
   * changes made through the API survive a plain restart. Environments not in the file are kept.
   */
  async applyFile(file: EnvironmentsFile): Promise<{ applied: boolean; changed: string[] }> {
    const relativeName = path.basename(file.file);
    const actor: Actor = { type: 'file', id: relativeName, name: relativeName };
    return auditedCommit<{ applied: boolean; changed: string[] }>(
      this.store,
      async () => {
        const sourcePut = await fileSourceChange(this.store, `environments:${relativeName}`, file.hash);
        if (!sourcePut) return { commit: {}, audit: [], result: { applied: false, changed: [] } };
        const stored = new Map((await this.store.list<Environment>(ENVIRONMENTS)).map((d) => [d.id, d]));
        const puts: PutOp[] = [sourcePut];
        const audit: AuditInput[] = [];
        for (const env of file.environments) {
          const existing = stored.get(env.name);
          if (existing && sameEnvironment(existing.value, env)) continue;
          puts.push({ collection: ENVIRONMENTS, id: env.name, value: env, expectVersion: existing?.version ?? 0 });
          audit.push({
            actor,
            action: 'environment.file',
            target: { type: 'environment', id: env.name, environment: env.name },
            before: existing?.value ?? null,
            after: env,
          });
        }
        return { commit: { puts }, audit, result: { applied: true, changed: audit.map((a) => a.target.id) } };
      },
      this.now,
      this.awaitApplied,
    );
  }

  /**
   * The upgrade to declared environments: every environment that already holds flags (or kill
   * switches) or that a client or frontend token is bound to, and is not declared, is declared
   * as it is (no rules), in one audited commit. Run at every start, so state written by an older
   * replica during a rolling upgrade, or restored from an older backup, is covered too; once
   * everything is declared it writes nothing.
   */
  async declareEnvironmentsInUse(): Promise<string[]> {
    return auditedCommit(
      this.store,
      async () => {
        const [flags, tokens, declared] = await Promise.all([
          this.store.list<StoredFlag>(FLAGS),
          this.store.list<StoredToken>(TOKENS),
          this.store.versions(ENVIRONMENTS),
        ]);
        const byFlags = new Set(flags.flatMap((d) => [...Object.keys(d.value.environments ?? {}), ...Object.keys(d.value.killSwitches ?? {})]));
        const byTokens = new Set(tokens.flatMap((d) => tokenEnvironments(d.value)));
        const missing = [...new Set([...byFlags, ...byTokens])].filter((name) => !declared.has(name)).sort();
        const envs: Environment[] = missing.map((name) => ({ name }));
        return {
          commit: { puts: envs.map((env) => ({ collection: ENVIRONMENTS, id: env.name, value: env, expectVersion: 0 })) },
          audit: envs.map((env) => ({
            actor: UPGRADE,
            action: 'environment.declared',
            target: { type: 'environment', id: env.name, environment: env.name },
            reason: byFlags.has(env.name) ? 'declared by upgrade: already held flags' : 'declared by upgrade: a client or frontend token was bound to it',
            before: null,
            after: env,
          })),
          result: missing,
        };
      },
      this.now,
      this.awaitApplied,
    );
  }
}
