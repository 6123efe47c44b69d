import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import type { Store } from '../store/port.js';
import { auditedCommit } from '../audit/audited-commit.js';
import { AppError } from '../errors/app-error.js';
import { defineRoute, type RouteSpec } from '../http/route.js';
import { asBackup, backupSchema } from './backup-format.js';
import { backupJson, readSnapshot } from './export-backup.js';
import { checkBackup, restoreBackup } from './restore-backup.js';
import type { StoreWatch } from '../store-loss/store-watch.js';
import { restoreEndingLoss } from '../store-loss/accept-loss.js';

const TAG = 'Backup';
export const RESTORE_PATH = '/api/admin/restore';

export interface BackupRouteDeps {
  store: Store;
  now: () => Date;
  version: string;
  /** This deployment's key prefix on Redis; undefined for the embedded store. */
  prefix?: string;
  /** Opens a store under another key prefix of the same Redis (closed after use); undefined for the embedded store. */
  openPrefix?: (prefix: string) => Promise<Store>;
  /**
   * When the store lost data, a restore into this deployment's own (emptied) store is how a person
   * brings it back: it goes into the store itself (writes are otherwise refused), and its last commit
   * also ends the loss (see resolution()).
   */
  loss?: { store: Store; watch: StoreWatch; lookNow: () => Promise<void> };
}

export function backupRoutes(deps: BackupRouteDeps): RouteSpec[] {
  const ownName = deps.prefix ?? 'embedded';
  return [
    defineRoute({
      method: 'get',
      path: '/api/admin/backup',
      summary:
        'Export everything (flags, segments, policies, rollouts, token metadata with hashes, webhooks with their secrets, file markers, the audit log) ' +
        'as one JSON document with a format version. Treat the file as a secret.',
      tag: TAG,
      auth: { kind: 'admin', permission: 'backup:export' },
      responses: { 200: { description: 'The backup, streamed', contentType: 'application/json' } },
      handler: async ({ res, actor }) => {
        // Recorded before the snapshot, so the backup itself shows who took it.
        await auditedCommit(
          deps.store,
          async () => ({
            commit: {},
            audit: { actor, action: 'backup.export', target: { type: 'store', id: ownName }, before: null, after: null },
            result: undefined,
          }),
          deps.now,
        );
        const snapshot = await readSnapshot(deps.store);
        const createdAt = deps.now().toISOString();
        res.status(200);
        res.setHeader('Content-Type', 'application/json; charset=utf-8');
        res.setHeader('Content-Disposition', `attachment; filename="rollout-backup-${createdAt.replace(/[:.]/g, '-')}.json"`);
        res.setHeader('Cache-Control', 'no-store');
        const header = { createdAt, controllerVersion: deps.version, storeKind: deps.store.kind };
        await pipeline(Readable.from(backupJson(deps.store, snapshot, header)), res);
        return undefined;
      },
    }),
    defineRoute({
      method: 'post',
      path: RESTORE_PATH,
      summary:
        'Restore a backup into an empty store, in one commit, then verify the audit chain. Every document is checked first. ' +
        'On Redis, `prefix` names a fresh key prefix to restore into (point the controllers at it afterwards); ' +
        "this deployment's own store is never empty, unless it lost its data: then a restore into it ends the loss.",
      tag: TAG,
      auth: { kind: 'admin', permission: 'backup:import' },
      query: z.object({
        prefix: z
          .string()
          .regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'letters, digits and _ . : -')
          .optional(),
      }),
      body: backupSchema,
      // The body is parsed and checked whole, which takes about ten times its size in memory (a 50 MB
      // backup of 100,000 audit events: ~0.9 GB), so its limit (BODY_LIMIT_RESTORE, 64 MB) stays below
      // what a replica is given; larger backups are restored with `npm run restore` where memory is ample.
      bodyFamily: 'restore',
      responses: {
        200: { description: '{restored, restoreEventSeq, audit, target}' },
        400: { description: 'The backup or one of its documents is invalid (each named with its collection, id and field), or it nests too deeply' },
        409: { description: 'The target store is not empty' },
        422: { description: "The backup's audit chain does not verify" },
      },
      handler: async ({ query, body, actor }) => {
        const backup = checkBackup(asBackup(body));
        const useOwn = query.prefix === undefined || query.prefix === deps.prefix;
        if (!useOwn && !deps.openPrefix) {
          throw new AppError(
            'invalid',
            'prefix_unsupported',
            'prefix applies to Redis only: restore an embedded store with `npm run restore` before its first start',
          );
        }
        const lost = useOwn && deps.loss ? await restoreEndingLoss(deps.loss.store, deps.loss.watch, deps.now()) : undefined;
        const target = useOwn ? (lost ? deps.loss!.store : deps.store) : await deps.openPrefix!(query.prefix!);
        try {
          const result = await restoreBackup(target, backup, { actor, now: deps.now, targetName: useOwn ? ownName : query.prefix!, alsoInLastCommit: lost });
          if (lost) await deps.loss!.lookNow();
          const answer = { ...result, target: { prefix: useOwn ? deps.prefix : query.prefix } };
          if (!result.audit.ok)
            throw new AppError('internal', 'restore_unverified', `restored, but the audit log does not verify: ${result.audit.problem}`, answer);
          return { status: 200, body: answer };
        } finally {
          if (!useOwn) await target.close();
        }
      },
    }),
  ];
}
