import type { Store } from '../store/port.js';
import { auditedCommit } from '../audit/audited-commit.js';
import type { Actor } from '../audit/chain.js';
import { AppError } from '../errors/app-error.js';
import { assertEnvironmentsDeclared } from '../environments/declared.js';
import { checkDocument, type DocumentProblem } from '../validation/stored-documents.js';
import { ALERT_ROUTES, ROUTING_LIMITS, routingRuleSchema, type RoutingRule } from './routing-rules.js';

/**
 * The routing rules admins keep in the store (`/api/admin/alert-routes/{name}`), each change
 * audited. Alerts read them at every delivery: they are few, and a change applies to the next alert
 * on every replica without anyone following the change feed (so they are written off it).
 */
export class RoutingRuleService {
  constructor(
    private readonly store: Store,
    private readonly now: () => Date,
    private readonly awaitApplied: (feedSeq: number) => Promise<void> = async () => {},
    /** Told of a stored rule that does not pass the schema: it is left out, not applied half-read. */
    private readonly onInvalid: (problem: DocumentProblem) => void = () => {},
  ) {}

  /** Every valid rule, by name. */
  async list(): Promise<RoutingRule[]> {
    const rules: RoutingRule[] = [];
    for (const doc of await this.store.list(ALERT_ROUTES)) {
      const checked = checkDocument(routingRuleSchema, ALERT_ROUTES, doc.id, doc.value);
      if (checked.ok) rules.push(checked.value);
      else this.onInvalid(checked.problem);
    }
    return rules.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async get(name: string): Promise<RoutingRule> {
    const doc = await this.store.get<RoutingRule>(ALERT_ROUTES, name);
    if (!doc) throw AppError.notFound(`alert route "${name}"`);
    return doc.value;
  }

  async put(rule: RoutingRule, actor: Actor, reason?: string): Promise<{ rule: RoutingRule; created: boolean }> {
    // A rule for an environment nobody declared would never match: a typo, refused.
    if (rule.environments) await assertEnvironmentsDeclared(this.store, rule.environments);
    return auditedCommit(
      this.store,
      async () => {
        const [existing, versions] = await Promise.all([this.store.get<RoutingRule>(ALERT_ROUTES, rule.name), this.store.versions(ALERT_ROUTES)]);
        if (!existing && versions.size >= ROUTING_LIMITS.rules) {
          throw new AppError('conflict', 'too_many_alert_routes', `there are already ${versions.size} alert routes, the most kept; delete one first`);
        }
        return {
          commit: { puts: [{ collection: ALERT_ROUTES, id: rule.name, value: rule, expectVersion: existing?.version ?? 0, quiet: true }] },
          audit: { actor, action: 'alert-route.put', target: { type: 'alert-route', id: rule.name }, reason, before: existing?.value ?? null, after: rule },
          result: { rule, created: !existing },
        };
      },
      this.now,
      this.awaitApplied,
    );
  }

  async delete(name: string, actor: Actor, reason?: string): Promise<void> {
    await auditedCommit(
      this.store,
      async () => {
        const existing = await this.store.get<RoutingRule>(ALERT_ROUTES, name);
        if (!existing) throw AppError.notFound(`alert route "${name}"`);
        return {
          commit: { deletes: [{ collection: ALERT_ROUTES, id: name, expectVersion: existing.version, quiet: true }] },
          audit: { actor, action: 'alert-route.delete', target: { type: 'alert-route', id: name }, reason, before: existing.value, after: null },
          result: undefined,
        };
      },
      this.now,
      this.awaitApplied,
    );
  }
}
