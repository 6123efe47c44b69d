import { randomUUID } from 'node:crypto';
import { labelsFingerprint, type Directive, type IncomingAlert } from './alert-model.js';
import type { AlertmanagerPayload, GenericAlert } from './alert-schemas.js';

/** Alertmanager's alerts in the controller's terms: each alert's own labels (which hold the group's) and annotations. */
export function fromAlertmanager(payload: AlertmanagerPayload): IncomingAlert[] {
  return payload.alerts.map((a) => ({
    source: 'alertmanager',
    fingerprint: a.fingerprint ?? labelsFingerprint(a.labels),
    identified: true,
    status: a.status,
    // To the millisecond, whatever offset and precision the sender wrote it with: the same instant is the same episode.
    startsAt: new Date(Date.parse(a.startsAt)).toISOString(),
    labels: a.labels,
    annotations: a.annotations,
    ...(a.generatorURL ? { generatorURL: a.generatorURL } : {}),
  }));
}

/** A generic alert, and what it asks: it names its one target itself. */
export function fromGeneric(body: GenericAlert): { alert: IncomingAlert; directive: Directive } {
  const target = body.flag !== undefined ? { kind: 'flag' as const, name: body.flag } : { kind: 'release' as const, name: body.release! };
  const alert: IncomingAlert = {
    source: 'generic',
    // Without the caller's fingerprint the alert cannot be recognised if sent again: a fresh id names it in results and records.
    fingerprint: body.fingerprint ?? `unidentified-${randomUUID()}`,
    identified: body.fingerprint !== undefined,
    status: 'firing',
    labels: { [target.kind]: target.name, environment: body.environment, action: body.action },
    annotations: { summary: body.reason },
  };
  return { alert, directive: { target, environment: body.environment, action: body.action, via: 'request' } };
}
