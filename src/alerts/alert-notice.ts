import { alertActedEvent, type AlertEvent } from '../notifications/published-events.js';
import type { AlertResult, IncomingAlert } from './alert-model.js';

/**
 * The notification of an alert the controller acted on (paused, rolled back, killed or resumed):
 * its name, fingerprint and summary, and what was done where. Alerts that changed nothing (a
 * duplicate, nothing to act on, an unknown target) tell nobody: the sender already knows.
 */
export function alertActedNotice(alert: IncomingAlert, result: AlertResult, now: Date): AlertEvent | undefined {
  if (result.outcome !== 'acted' || !result.target || !result.environment || !result.action) return undefined;
  const alertName = alert.labels.alertname ?? alert.labels.alertName ?? (alert.source === 'generic' ? 'generic alert' : 'alert');
  const summary = alert.annotations.summary ?? alert.annotations.description ?? alert.annotations.reason ?? result.detail;
  return alertActedEvent(
    {
      target: {
        environment: result.environment,
        flags: result.target.kind === 'flag' ? [result.target.name] : [],
        ...(result.target.kind === 'release' ? { release: result.target.name } : {}),
      },
      details: { source: alert.source, alertName, fingerprint: alert.fingerprint, action: result.action, status: alert.status, summary: summary.slice(0, 500) },
    },
    now.toISOString(),
  );
}
