import type { StoredToken } from '../auth/token-model.js';
import { tokenEnvironments } from '../auth/token-model.js';
import { AppError } from '../errors/app-error.js';
import type { Logger } from '../logger.js';
import type { AlertResult, IncomingAlert } from './alert-model.js';
import type { AlertReceipts } from './alert-receipts.js';
import type { AlertCaller, AlertService } from './alert-service.js';
import type { AlertmanagerPayload, GenericAlert } from './alert-schemas.js';
import { fromAlertmanager, fromGeneric } from './incoming.js';
import { route, type Routing, type RoutingRule } from './routing-rules.js';
import type { RoutingRuleService } from './routing-rule-service.js';

/**
 * One delivery, from the token that sent it to the results: each alert routed, every environment
 * it names checked against the token's before anything is done (403 for the whole delivery
 * otherwise), then each directive carried out in order.
 */
export class AlertIntake {
  constructor(
    private readonly service: AlertService,
    private readonly rules: RoutingRuleService,
    private readonly receipts: AlertReceipts,
    private readonly logger: Logger,
  ) {}

  async alertmanager(payload: AlertmanagerPayload, token: StoredToken): Promise<AlertResult[]> {
    const alerts = fromAlertmanager(payload);
    const environments = tokenEnvironments(token);
    // Rules are read only when some alert does not name its target in its labels.
    const needsRules = alerts.some((a) => a.labels.flag === undefined && a.labels.release === undefined);
    const rules: RoutingRule[] = needsRules ? await this.rules.list() : [];
    const routed = alerts.map((alert) => ({ alert, routing: route(alert, rules, environments) }));
    assertAllowed(
      token,
      routed.flatMap(({ routing }) => (routing.kind === 'directives' ? routing.directives.map((d) => d.environment) : [])),
    );
    const results: AlertResult[] = [];
    for (const { alert, routing } of routed) results.push(...(await this.carryOut(alert, routing, token)));
    this.sweep();
    return results;
  }

  async generic(body: GenericAlert, token: StoredToken): Promise<AlertResult[]> {
    const { alert, directive } = fromGeneric(body);
    assertAllowed(token, [directive.environment]);
    const result = await this.service.act(alert, directive, callerOf(token));
    this.sweep();
    return [result];
  }

  private async carryOut(alert: IncomingAlert, routing: Routing, token: StoredToken): Promise<AlertResult[]> {
    const unacted = { fingerprint: alert.fingerprint, status: alert.status, target: null, environment: alert.labels.environment ?? null, action: null };
    switch (routing.kind) {
      case 'invalid':
        this.logger.warn({ fingerprint: alert.fingerprint, alertname: alert.labels.alertname }, `alert not acted on: ${routing.reason}`);
        return [{ ...unacted, outcome: 'invalid', detail: routing.reason }];
      case 'unrouted':
        this.logger.warn({ fingerprint: alert.fingerprint, alertname: alert.labels.alertname }, `alert not acted on: ${routing.reason}`);
        return [{ ...unacted, outcome: 'unknown_target', detail: routing.reason }];
      case 'directives': {
        const results: AlertResult[] = [];
        for (const directive of routing.directives) results.push(await this.service.act(alert, directive, callerOf(token)));
        return results;
      }
    }
  }

  /** Expired receipts go, now and then, after a delivery's answer is settled; a failure waits for the next sweep. */
  private sweep(): void {
    this.receipts.pruneIfDue().then(
      (deleted) => deleted > 0 && this.logger.info({ deleted }, 'expired alert receipts deleted'),
      (err) => this.logger.warn({ err: String(err) }, 'expired alert receipts not deleted; tried again later'),
    );
  }
}

/** 403 naming the environments the token may not act in, before any alert of the delivery is acted on. */
function assertAllowed(token: StoredToken, environments: string[]): void {
  const allowed = new Set(tokenEnvironments(token));
  const refused = [...new Set(environments.filter((e) => !allowed.has(e)))].sort();
  if (refused.length > 0) {
    throw new AppError(
      'forbidden',
      'forbidden',
      `this alert token is bound to ${[...allowed].join(', ')}, not to ${refused
        .slice(0, 20)
        .map((e) => e.slice(0, 100))
        .join(', ')}${refused.length > 20 ? ` (and ${refused.length - 20} more)` : ''}: nothing of this delivery was acted on`,
      { environments: refused.slice(0, 20) },
    );
  }
}

function callerOf(token: StoredToken): AlertCaller {
  return { actor: { type: 'token', id: token.id, name: token.name }, by: { id: token.id, name: token.name } };
}
