import type { Store, Versioned, PutOp } from '../store/port.js';
import { auditedCommit } from '../audit/audited-commit.js';
import type { Actor, AuditInput } from '../audit/chain.js';
import { AppError } from '../errors/app-error.js';
import { FLAGS, SEGMENTS } from './collections.js';
import { fileSourceChange } from '../files/file-sources.js';
import type { FlagFile } from './flag-files.js';
import { FileError } from '../files/file-error.js';
import { storedFlagSchema, type FlagDefinition, type KillSwitch, type Segment, type StoredFlag } from './schema.js';
import { killReplaces, sameKillSwitch } from './drill-kill.js';
import type { ImportPayload } from './import-schema.js';
import { assertEnvironmentsDeclared } from '../environments/declared.js';
import { danglingSegmentReferences, segmentIds } from './segment-references.js';
import { importAnswer, keptByImport, type ImportAnswer } from './import-report.js';
import { ROLLOUTS, type Rollout } from '../rollouts/rollout-model.js';
import { forcedReason, ownedStrategies, reconcileWithRollouts, type OwningRollout } from './rollout-ownership.js';
import type { KillResult, KillSwitchChange, KillSwitchListener, RefusedFlag } from './flag-results.js';
import { assertFileEnvironmentsDeclared, ownershipError, throwIfProblems } from './flag-write-checks.js';
import { forEnvironment } from './per-environment.js';

export type { KillResult, KillSwitchChange, KillSwitchListener, RefusedFlag } from './flag-results.js';

/**
 * Every change to flags and segments. Each method reads, plans one compare-and-set commit and
 * its audit events, and lets auditedCommit retry on a race, so concurrent writers never lose an update.
 */
export class FlagService {
  private readonly killListeners = new Set<KillSwitchListener>();

  constructor(
    private readonly store: Store,
    private readonly now: () => Date,
    private readonly awaitApplied: (feedSeq: number) => Promise<void> = async () => {},
  ) {}

  /** Listeners run after the commit and must not throw or block: they are told, not asked. */
  onKillSwitchChange(listener: KillSwitchListener): () => void {
    this.killListeners.add(listener);
    return () => this.killListeners.delete(listener);
  }

  async list(): Promise<StoredFlag[]> {
    return (await this.store.list<StoredFlag>(FLAGS)).map((d) => d.value).sort((a, b) => a.name.localeCompare(b.name));
  }

  async get(name: string): Promise<Versioned<StoredFlag>> {
    const doc = await this.store.get<StoredFlag>(FLAGS, name);
    if (!doc) throw AppError.notFound(`flag "${name}"`);
    return doc;
  }

  /**
   * Creates or replaces a flag's definition. Kill switches are not part of a definition and survive it.
   * A definition that would change the percentage a running or completed rollout set is refused
   * (409 rollout_owns_percentage) unless `force`: see rollout-ownership.ts.
   * @param ifVersion the version the caller last read (from the ETag); when given, the write is
   *   refused with 412 if someone changed the flag since, instead of silently overwriting them.
   */
  async put(
    definition: FlagDefinition,
    actor: Actor,
    reason?: string,
    ifVersion?: number,
    force = false,
  ): Promise<{ flag: StoredFlag; created: boolean; version: number }> {
    return auditedCommit(
      this.store,
      async () => {
        const [existing, segments] = await Promise.all([
          this.store.get<StoredFlag>(FLAGS, definition.name),
          this.store.list<Segment>(SEGMENTS),
          assertEnvironmentsDeclared(this.store, Object.keys(definition.environments)),
        ]);
        if (ifVersion !== undefined && (existing?.version ?? 0) !== ifVersion) {
          throw new AppError('stale', 'version_mismatch', `flag "${definition.name}" is at version ${existing?.version ?? 0}, not ${ifVersion}: read it again`);
        }
        this.assertSegmentsExist(definition, segmentIds(segments.map((s) => s.value)));
        const reconciled = reconcileWithRollouts(existing?.value, definition, await this.owningRollouts(existing?.value), force);
        if (reconciled.conflicts.length > 0) throw ownershipError(reconciled.conflicts);
        const flag = storedFlagSchema.parse({ ...reconciled.definition, killSwitches: existing?.value.killSwitches ?? {} });
        return {
          commit: { puts: [{ collection: FLAGS, id: flag.name, value: flag, expectVersion: existing?.version ?? 0 }] },
          audit: {
            actor,
            action: 'flag.put',
            target: { type: 'flag', id: flag.name },
            reason: forcedReason(reason, reconciled.forcedOver),
            before: existing?.value ?? null,
            after: flag,
          },
          result: { flag, created: !existing, version: (existing?.version ?? 0) + 1 },
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
        const existing = await this.get(name);
        return {
          commit: { deletes: [{ collection: FLAGS, id: name, expectVersion: existing.version }] },
          audit: { actor, action: 'flag.delete', target: { type: 'flag', id: name }, reason, before: existing.value, after: null },
          result: {},
        };
      },
      this.now,
      this.awaitApplied,
    );
  }

  /**
   * Flips (kill = true) or clears a flag's kill switch in one environment. Idempotent: a no-op writes
   * nothing; but a kill replaces a drill's kill switch (drill-kill.ts).
   * `also`: writes and audit events that land in the same commit as the switch or not at all (an
   * incoming alert's receipt, src/alerts), planned afresh on every attempt; it may throw to abandon
   * the change. Not asked when the switch does not move.
   * `onlyIf`: a restore happens only while the kill switch is exactly that one (a drill lifting its
   * own kill, never someone else's); otherwise nothing is written and `killSwitch` says what is there.
   */
  async setKillSwitch(
    name: string,
    environment: string,
    kill: boolean,
    actor: Actor,
    reason: string,
    also?: () => Promise<{ puts: PutOp[]; audit: AuditInput[] }>,
    onlyIf?: KillSwitch,
  ): Promise<KillResult> {
    return (await this.setKillSwitches([name], environment, kill, actor, reason, also, onlyIf))[0]!;
  }

  /**
   * The kill switches of several flags (a release's) flipped in one commit, so no application ever
   * sees some of them off and others on. A flag already in the asked state is left as it is; `also`
   * joins the commit only when at least one switch moves.
   */
  async setKillSwitches(
    names: string[],
    environment: string,
    kill: boolean,
    actor: Actor,
    reason: string,
    also?: () => Promise<{ puts: PutOp[]; audit: AuditInput[] }>,
    onlyIf?: KillSwitch,
  ): Promise<KillResult[]> {
    const at = this.now().toISOString();
    const results = await auditedCommit<KillResult[]>(
      this.store,
      async () => {
        const [existing] = await Promise.all([Promise.all(names.map((name) => this.get(name))), assertEnvironmentsDeclared(this.store, [environment])]);
        const puts: PutOp[] = [];
        const audit: AuditInput[] = [];
        const result = existing.map((doc, i): KillResult => {
          const name = names[i]!;
          const current = forEnvironment(doc.value.killSwitches, environment);
          const noOp = kill ? !killReplaces(current, reason) : current === undefined || (onlyIf !== undefined && !sameKillSwitch(current, onlyIf));
          if (noOp) return { flag: name, environment, killed: current !== undefined, changed: false, killSwitch: current };
          const killSwitches = { ...doc.value.killSwitches };
          const killSwitch = { reason, actor: actor.name, at };
          if (kill) killSwitches[environment] = killSwitch;
          else delete killSwitches[environment];
          puts.push({ collection: FLAGS, id: name, value: { ...doc.value, killSwitches } satisfies StoredFlag, expectVersion: doc.version });
          audit.push({
            actor,
            action: kill ? 'flag.kill' : 'flag.restore',
            target: { type: 'flag', id: name, environment },
            reason,
            before: { killSwitch: current ?? null },
            after: { killSwitch: kill ? killSwitch : null },
          });
          return { flag: name, environment, killed: kill, changed: true, killSwitch: kill ? killSwitch : undefined };
        });
        if (puts.length === 0) return { commit: {}, audit: [], result };
        const extra = (await also?.()) ?? { puts: [], audit: [] };
        return { commit: { puts: [...puts, ...extra.puts] }, audit: [...audit, ...extra.audit], result };
      },
      this.now,
      this.awaitApplied,
    );
    // Only a switch that moved is news: a repeated kill or restore tells nobody.
    for (const r of results) if (r.changed) this.tellKillSwitch({ flag: r.flag, environment, killed: kill, reason, actor, at });
    return results;
  }

  private tellKillSwitch(change: KillSwitchChange): void {
    for (const listener of this.killListeners) {
      try {
        listener(change);
      } catch {
        // A listener's failure is its own; the switch has already moved.
      }
    }
  }

  /** The rollouts named by the flag's owned strategies, read fresh on every attempt of a commit. */
  private async owningRollouts(flag: StoredFlag | undefined): Promise<(id: string) => OwningRollout | undefined> {
    const ids = flag ? ownedStrategies(flag).map((o) => o.rolloutId) : [];
    const docs = await Promise.all(ids.map((id) => this.store.get<Pick<Rollout, 'id' | 'state'>>(ROLLOUTS, id)));
    const byId = new Map(docs.flatMap((d) => (d ? [[d.id, { id: d.id, state: d.value.state }] as const] : [])));
    return (id) => byId.get(id);
  }

  /**
   * Upserts an Unleash client payload into one environment, all or nothing: every flag and segment
   * is one commit, so a failure (or a racing writer) never leaves half an import behind. What
   * authoring would refuse is kept as it came and answered (import-report.ts).
   */
  async importEnvironment(environment: string, payload: ImportPayload, actor: Actor): Promise<ImportAnswer> {
    return auditedCommit(
      this.store,
      async () => {
        const [flagDocs, segmentDocs] = await Promise.all([
          this.store.list<StoredFlag>(FLAGS),
          this.store.list<Segment>(SEGMENTS),
          assertEnvironmentsDeclared(this.store, [environment]),
        ]);
        const flags = new Map(flagDocs.map((d) => [d.id, d]));
        const segments = new Map(segmentDocs.map((d) => [d.id, d]));
        const puts: PutOp[] = [];
        const audit: AuditInput[] = [];
        for (const segment of payload.segments ?? []) {
          const existing = segments.get(String(segment.id));
          puts.push({ collection: SEGMENTS, id: String(segment.id), value: segment, expectVersion: existing?.version ?? 0 });
          audit.push({ actor, action: 'segment.import', target: { type: 'segment', id: String(segment.id) }, before: existing?.value ?? null, after: segment });
        }
        const known = new Set([...segmentIds(segmentDocs.map((d) => d.value)), ...segmentIds(payload.segments ?? [])]);
        const kept = keptByImport(payload, known);
        payload.features.forEach((feature) => {
          const existing = flags.get(feature.name)?.value;
          const { enabled, strategies, variants, ...flagLevel } = feature;
          const flag = storedFlagSchema.parse({
            ...existing,
            ...flagLevel,
            environments: { ...existing?.environments, [environment]: { enabled, strategies, variants } },
            killSwitches: existing?.killSwitches ?? {},
          });
          puts.push({ collection: FLAGS, id: flag.name, value: flag, expectVersion: flags.get(flag.name)?.version ?? 0 });
          audit.push({ actor, action: 'flag.import', target: { type: 'flag', id: flag.name, environment }, before: existing ?? null, after: flag });
        });
        return { commit: { puts }, audit, result: importAnswer(payload.features.length, kept) };
      },
      this.now,
      this.awaitApplied,
    );
  }

  /**
   * Applies a flags/*.yaml file when its content differs from what it last applied, so files are
   * the source of truth when they change, and changes made through the API survive a plain restart.
   */
  async applyFile(file: FlagFile, relativeName: string): Promise<{ applied: boolean; refused: RefusedFlag[] }> {
    const actor: Actor = { type: 'file', id: relativeName, name: relativeName };
    return auditedCommit<{ applied: boolean; refused: RefusedFlag[] }>(
      this.store,
      async () => {
        const sourcePut = await fileSourceChange(this.store, `flags:${relativeName}`, file.hash);
        if (!sourcePut) return { commit: {}, audit: [], result: { applied: false, refused: [] } };
        const [flagDocs, segmentDocs] = await Promise.all([this.store.list<StoredFlag>(FLAGS), this.store.list<Segment>(SEGMENTS)]);
        const flags = new Map(flagDocs.map((d) => [d.id, d]));
        const segments = new Map(segmentDocs.map((d) => [d.id, d]));
        const known = new Set([...segmentIds(segmentDocs.map((d) => d.value)), ...segmentIds(file.segments)]);
        await assertFileEnvironmentsDeclared(this.store, file);
        const puts: PutOp[] = [sourcePut];
        const audit: AuditInput[] = [];
        for (const segment of file.segments) {
          const existing = segments.get(String(segment.id));
          puts.push({ collection: SEGMENTS, id: String(segment.id), value: segment, expectVersion: existing?.version ?? 0 });
          audit.push({ actor, action: 'segment.file', target: { type: 'segment', id: String(segment.id) }, before: existing?.value ?? null, after: segment });
        }
        // Every dangling reference of the file at once; any of them and nothing of the file loads.
        const dangling = file.flags.flatMap((definition, i) => danglingSegmentReferences(definition, known, `flags[${i}].`));
        if (dangling.length > 0)
          throw FileError.of(
            file.file,
            dangling.map((p) => ({ fieldPath: p.path, problem: p.message })),
          );
        const refused: RefusedFlag[] = [];
        for (const definition of file.flags) {
          const existing = flags.get(definition.name);
          // The same rule as a PUT; a file cannot say "force", so such a flag is left as it is
          // (the caller logs why) and the rest of the file is applied.
          const reconciled = reconcileWithRollouts(existing?.value, definition, await this.owningRollouts(existing?.value), false);
          if (reconciled.conflicts.length > 0) {
            refused.push({ flag: definition.name, conflicts: reconciled.conflicts });
            continue;
          }
          const flag = storedFlagSchema.parse({ ...reconciled.definition, killSwitches: existing?.value.killSwitches ?? {} });
          puts.push({ collection: FLAGS, id: flag.name, value: flag, expectVersion: existing?.version ?? 0 });
          audit.push({ actor, action: 'flag.file', target: { type: 'flag', id: flag.name }, before: existing?.value ?? null, after: flag });
        }
        return { commit: { puts }, audit, result: { applied: true, refused } };
      },
      this.now,
      this.awaitApplied,
    );
  }

  private assertSegmentsExist(flag: Pick<FlagDefinition, 'environments'>, known: ReadonlySet<number>): void {
    throwIfProblems(danglingSegmentReferences(flag, known, ''));
  }
}
