import { z } from 'zod';
import { environmentNameSchema, flagNameSchema } from '../flags/schema.js';
import '../validation/schema-errors.js';
import { ALERT_ACTIONS } from './alert-model.js';

/**
 * The bodies the alert routes take. Alertmanager's webhook payload is taken as Alertmanager sends
 * it (https://prometheus.io/docs/alerting/latest/configuration/#webhook_config, version "4"):
 * fields it may add later are accepted and left out, and every field read is bounded (README, "Limits").
 */

export const ALERT_PAYLOAD_LIMITS = {
  /** Alerts in one notification (Alertmanager's own `max_alerts` truncates below this). */
  alerts: 1_000,
  /** Labels, and annotations, of one alert (and of a group's common and group labels). */
  labels: 100,
  labelNameChars: 200,
  labelValueChars: 2_000,
  annotationValueChars: 10_000,
  /** groupKey, receiver, URLs, fingerprints. */
  textChars: 10_000,
} as const;

const L = ALERT_PAYLOAD_LIMITS;
const text = z.string().max(L.textChars);
const labelSet = (valueChars: number) =>
  z
    .record(z.string().min(1).max(L.labelNameChars), z.string().max(valueChars))
    .refine((labels) => Object.keys(labels).length <= L.labels, `at most ${L.labels} entries`);
const labels = labelSet(L.labelValueChars);
const annotations = labelSet(L.annotationValueChars);
/** RFC 3339 as Go writes it (nanoseconds, any offset); Alertmanager sends 0001-01-01T00:00:00Z for "not ended". */
const timestamp = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/, 'an RFC 3339 time such as 2026-01-17T14:00:00Z')
  .refine((t) => !Number.isNaN(Date.parse(t)), 'an RFC 3339 time such as 2026-01-17T14:00:00Z');
const status = z.enum(['firing', 'resolved']);

export const alertmanagerAlertSchema = z.object({
  status,
  labels,
  annotations: annotations.default({}),
  startsAt: timestamp,
  endsAt: timestamp.optional(),
  generatorURL: text.optional(),
  /** Sent by Alertmanager 0.19 and later; older ones are told apart by their labels. */
  fingerprint: z.string().min(1).max(200).optional(),
});
export type AlertmanagerAlert = z.infer<typeof alertmanagerAlertSchema>;

export const alertmanagerPayloadSchema = z
  .object({
    version: z.string().max(20),
    groupKey: text.optional(),
    truncatedAlerts: z.number().int().min(0).optional(),
    status,
    receiver: text.optional(),
    groupLabels: labels.optional(),
    commonLabels: labels.optional(),
    commonAnnotations: annotations.optional(),
    externalURL: text.optional(),
    alerts: z.array(alertmanagerAlertSchema).max(L.alerts),
  })
  .meta({ id: 'AlertmanagerWebhook' });
export type AlertmanagerPayload = z.infer<typeof alertmanagerPayloadSchema>;

export const genericAlertSchema = z
  .object({
    flag: flagNameSchema.optional(),
    release: flagNameSchema.optional(),
    environment: environmentNameSchema,
    action: z.enum(ALERT_ACTIONS),
    reason: z.string().min(1).max(1000),
    /** The caller's id for this alert: the same fingerprint again is a resend, and does nothing new. */
    fingerprint: z.string().min(1).max(200).optional(),
  })
  .strict()
  .superRefine((b, ctx) => {
    if ((b.flag === undefined) === (b.release === undefined))
      ctx.addIssue({ code: 'custom', path: [b.flag === undefined ? 'flag' : 'release'], message: 'exactly one of flag and release' });
  })
  .meta({ id: 'GenericAlert' });
export type GenericAlert = z.infer<typeof genericAlertSchema>;
