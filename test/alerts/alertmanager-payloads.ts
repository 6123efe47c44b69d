/**
 * Alertmanager webhook deliveries in the documented format (webhook_config, version "4": every
 * top-level field and every alert field), as Alertmanager sends them for an alert that fires and
 * then resolves. Times as Go writes them: nanoseconds and an offset; "0001-01-01T00:00:00Z" is
 * Alertmanager's "not ended yet".
 */
export const AM_FIRING = {
  version: '4',
  groupKey: '{}/{severity="critical"}:{alertname="HighErrorRate"}',
  truncatedAlerts: 0,
  status: 'firing',
  receiver: 'rollout-controller',
  groupLabels: { alertname: 'HighErrorRate' },
  commonLabels: { alertname: 'HighErrorRate', environment: 'production', flag: 'checkout-alerted', severity: 'critical' },
  commonAnnotations: { summary: 'checkout error rate above 5 %', description: 'checkout-v2 returns 7.2 % errors over 5 minutes' },
  externalURL: 'http://alertmanager.example:9093',
  alerts: [
    {
      status: 'firing',
      labels: { alertname: 'HighErrorRate', environment: 'production', flag: 'checkout-alerted', severity: 'critical' },
      annotations: { summary: 'checkout error rate above 5 %', description: 'checkout-v2 returns 7.2 % errors over 5 minutes' },
      startsAt: '2026-01-17T14:02:11.739266876+08:00',
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: 'http://prometheus.example:9090/graph?g0.expr=job%3Acheckout_errors%3Arate5m+%3E+0.05&g0.tab=1',
      fingerprint: '5a8e3c1f0b2d4e6f',
    },
  ],
};

/** `AM_FIRING` with its labels changed (another flag, an action, another environment…) and its own fingerprint. */
export function firing(labels: Record<string, string>, fingerprint: string, annotations: Record<string, string> = AM_FIRING.alerts[0]!.annotations) {
  const alertLabels = { ...AM_FIRING.alerts[0]!.labels, ...labels };
  return {
    ...AM_FIRING,
    commonLabels: alertLabels,
    alerts: [{ ...AM_FIRING.alerts[0]!, labels: alertLabels, annotations, fingerprint }],
  };
}

/** The same delivery once the alert resolved: same fingerprint and start, an end time, status resolved. */
export function resolved(delivery: ReturnType<typeof firing> | typeof AM_FIRING) {
  return {
    ...delivery,
    status: 'resolved',
    alerts: delivery.alerts.map((a) => ({ ...a, status: 'resolved', endsAt: '2026-01-17T14:19:41.102938475+08:00' })),
  };
}
