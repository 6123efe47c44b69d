import { z } from 'zod';
import { FLAGS, SEGMENTS } from '../flags/collections.js';
import { segmentSchema, storedFlagSchema } from '../flags/schema.js';
import { POLICIES, POLICY_PROPOSALS, policyProposalSchema } from '../policies/policy-service.js';
import { policySchema } from '../policies/policy-schema.js';
import { ENVIRONMENTS, environmentSchema } from '../environments/environment-schema.js';
import { ROLLOUTS } from '../rollouts/rollout-model.js';
import { ROLLOUT_HISTORIES, ROLLOUT_PLANS } from '../rollouts/rollout-docs.js';
import { activeRolloutSchema, rolloutHistorySchema, rolloutRecordSchema } from '../rollouts/rollout-schema.js';
import { ACTIVE as ACTIVE_ROLLOUTS } from '../rollouts/rollout-writer.js';
import { storedTokenSchema, TOKENS } from '../auth/token-model.js';
import { storedWebhookSchema, WEBHOOKS } from '../notifications/webhook-model.js';
import { FILE_SOURCES, fileSourceSchema } from '../files/file-sources.js';
import { HOLIDAY_CALENDARS, holidayCalendarSchema } from '../policies/holiday-calendars.js';
import { PIPELINE_RUNS, PIPELINES, pipelineRunSchema, pipelineSchema } from '../pipelines/pipeline-model.js';
import { ALERT_ROUTES, routingRuleSchema } from '../alerts/routing-rules.js';
import type { AuditEvent, AuditHead } from '../audit/chain.js';

/**
 * The backup document: every collection that is state (not a cache, a queue or a counter), and the
 * audit log exactly as stored, so that its hash chain still verifies after a restore.
 *
 * Left out on purpose, and why:
 * - webhook-outbox and webhook-deliveries: deliveries in flight and their history. A restored
 *   deployment starts with an empty outbox; events from before the backup are not sent again.
 * - outcome and exposure counters: time buckets that expire within hours; a running rollout's
 *   current step gathers its samples again after a restore.
 * - leases and fencing counters: who leads is decided afresh by the replicas of the restored store.
 * - alert-receipts: which alerts were acted on, kept a week so resends do nothing new. After a
 *   restore a resent alert is judged on the restored state (a rollout it paused is still paused).
 * - document versions: a store gives version 1 to every document it writes first, so versions
 *   restart (an If-Match taken before the restore gets 412 and reads again). ETags of the SDK
 *   payloads are content hashes and stay the same.
 */
export const BACKUP_FORMAT = 'rollout-controller-backup';
export const BACKUP_FORMAT_VERSION = 1;

export interface BackedUpCollection {
  name: string;
  /**
   * Written off the change feed, as the owning feature writes it. Flags, segments and tokens must be
   * on the feed (serving and authentication follow it); the rest nobody follows.
   */
  quiet: boolean;
  /** Every document is checked with it before a restore writes anything: the schema its readers use. */
  schema: z.ZodType;
  /** The id a document's content gives itself, which must be the id it is stored under. */
  idOf?: (value: never) => string;
}

const byName = (v: { name: string }) => v.name;
const byId = (v: { id: string | number }) => String(v.id);

export const BACKED_UP_COLLECTIONS: readonly BackedUpCollection[] = [
  { name: FLAGS, quiet: false, schema: storedFlagSchema, idOf: byName },
  { name: SEGMENTS, quiet: false, schema: segmentSchema, idOf: byId },
  { name: POLICIES, quiet: false, schema: policySchema, idOf: byName },
  { name: POLICY_PROPOSALS, quiet: true, schema: policyProposalSchema, idOf: byId },
  { name: ENVIRONMENTS, quiet: false, schema: environmentSchema, idOf: byName },
  { name: TOKENS, quiet: false, schema: storedTokenSchema, idOf: byId },
  { name: ROLLOUTS, quiet: true, schema: rolloutRecordSchema, idOf: byId },
  { name: ROLLOUT_PLANS, quiet: true, schema: policySchema },
  { name: ROLLOUT_HISTORIES, quiet: true, schema: rolloutHistorySchema },
  { name: ACTIVE_ROLLOUTS, quiet: true, schema: activeRolloutSchema },
  { name: WEBHOOKS, quiet: true, schema: storedWebhookSchema, idOf: byId },
  { name: FILE_SOURCES, quiet: true, schema: fileSourceSchema },
  { name: HOLIDAY_CALENDARS, quiet: true, schema: holidayCalendarSchema, idOf: byName },
  { name: PIPELINES, quiet: true, schema: pipelineSchema, idOf: byName },
  { name: PIPELINE_RUNS, quiet: true, schema: pipelineRunSchema, idOf: byId },
  { name: ALERT_ROUTES, quiet: true, schema: routingRuleSchema, idOf: byName },
];

/** Collections the store holds that a backup leaves out deliberately (see above). */
export const NOT_BACKED_UP_COLLECTIONS = ['webhook-outbox', 'webhook-deliveries', 'meta', 'alert-receipts'] as const;

const collectionNames = BACKED_UP_COLLECTIONS.map((c) => c.name) as [string, ...string[]];

const documentSchema = z.object({ id: z.string().min(1), value: z.unknown() });

const auditHeadSchema = z.object({ seq: z.number().int().min(0), hash: z.string().regex(/^[0-9a-f]{64}$/) });

/**
 * Audit events are checked by their hash chain, not by their shape: any edit shows up as a broken
 * link. The schema only makes sure the fields the chain reads are there.
 */
const auditEventSchema = z.looseObject({ seq: z.number().int().min(1), hash: z.string(), prevHash: z.string() });

export const backupSchema = z.object({
  format: z.literal(BACKUP_FORMAT),
  formatVersion: z
    .number()
    .int()
    .min(1)
    .max(BACKUP_FORMAT_VERSION, {
      error: `made by a newer controller: this one reads format version ${BACKUP_FORMAT_VERSION} and older`,
    }),
  createdAt: z.string(),
  controllerVersion: z.string(),
  source: z.object({ store: z.string() }).optional(),
  collections: z.partialRecord(z.enum(collectionNames), z.array(documentSchema)),
  audit: z.object({ head: auditHeadSchema, events: z.array(auditEventSchema) }),
});

/**
 * The parsed document as the domain type. The schema checked the envelope; the events' content is
 * vouched for by the hash chain, which assertChainIntact checks next.
 */
export function asBackup(parsed: z.infer<typeof backupSchema>): Backup {
  return parsed as unknown as Backup;
}

export interface BackupDocument {
  id: string;
  value: unknown;
}

export interface Backup {
  format: typeof BACKUP_FORMAT;
  formatVersion: number;
  createdAt: string;
  controllerVersion: string;
  source?: { store: string };
  collections: Partial<Record<string, BackupDocument[]>>;
  audit: { head: AuditHead; events: AuditEvent[] };
}

/** How many documents of each collection and how many audit events a backup holds. */
export function backupCounts(backup: Pick<Backup, 'collections' | 'audit'>): { collections: Record<string, number>; auditEvents: number } {
  const collections: Record<string, number> = {};
  for (const { name } of BACKED_UP_COLLECTIONS) collections[name] = backup.collections[name]?.length ?? 0;
  return { collections, auditEvents: backup.audit.events.length };
}
