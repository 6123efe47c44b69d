import type { Store, Versioned, PutOp } from '../store/port.js';
import { auditedCommit } from '../audit/audited-commit.js';
import type { Actor, AuditInput } from '../audit/chain.js';
import { AppError } from '../http/app-error.js';
import { FLAGS, SEGMENTS } from './collections.js';
import { fileSourceChange } from '../files/file-sources.js';
import type { FlagFile } from './flag-files.js';
import { FileError } from '../files/yaml-files.js';
import { storedFlagSchema, type FlagDefinition, type Segment, type StoredFlag } from './schema.js';
import type { ImportPayload } from './import-schema.js';
import { assertEnvironmentsDeclared, undeclaredAmong, undeclaredMessage } from '../environments/declared.js';
import { danglingInStrategies, danglingSegmentReferences, segmentIds, type Problem } from './segment-references.js';

export interface KillResult {
  flag: string;
  environment: string;
  killed: boolean;
  changed: boolean;
  killSwitch?: StoredFlag['killSwitches'][string];
}

/**
 * Every change to flags and segments. Each method reads, plans one compare-and-set commit and
 * its audit events, and lets auditedCommit retry on a race, so concurrent writers never lose an update.
 */
export class FlagService {
  constructor(
    private readonly store: Store,
    private readonly now: () => Date,
    private readonly awaitApplied: (feedSeq: number) => Promise<void> = async () => {},
  ) {}

  async list(): Promise<StoredFlag[]> {
    return (await this.store.list<StoredFlag>(FLAGS)).map((d) => d.value).sort((a, b) => a.name.localeCompare(b.name));
  }

  async get(name: string): Promise<Versioned<StoredFlag>> {
    const doc = await this.store.get<StoredFlag>(FLAGS, name);
    if (!doc) throw AppError.notFound(`flag "${name}"`);
    return doc;
  }

  /** Creates or replaces a flag's definition. Kill switches are not part of a definition and survive it. */
  /**
   * @param ifVersion the version the caller last read (from the ETag); when given, the write is
   *   refused with 412 if someone changed the flag since, instead of silently overwriting them.
   */
  async put(definition: FlagDefinition, actor: Actor, reason?: string, ifVersion?: number): Promise<{ flag: StoredFlag; created: boolean; version: number }> {
    return auditedCommit(
      this.store,
      async () => {
        const [existing, segments] = await Promise.all([
          this.store.get<StoredFlag>(FLAGS, definition.name),
          this.store.list<Segment>(SEGMENTS),
          assertEnvironmentsDeclared(this.store, Object.keys(definition.environments)),
        ]);
        if (ifVersion !== undefined && (existing?.version ?? 0) !== ifVersion) {
          throw new AppError(412, 'version_mismatch', `flag "${definition.name}" is at version ${existing?.version ?? 0}, not ${ifVersion}: read it again`);
        }
        this.assertSegmentsExist(definition, segmentIds(segments.map((s) => s.value)));
        const flag = storedFlagSchema.parse({ ...definition, killSwitches: existing?.value.killSwitches ?? {} });
        return {
          commit: { puts: [{ collection: FLAGS, id: flag.name, value: flag, expectVersion: existing?.version ?? 0 }] },
          audit: { actor, action: 'flag.put', target: { type: 'flag', id: flag.name }, reason, before: existing?.value ?? null, after: flag },
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

  /** Flips (kill = true) or clears a flag's kill switch in one environment. Idempotent: a no-op writes nothing. */
  async setKillSwitch(name: string, environment: string, kill: boolean, actor: Actor, reason: string): Promise<KillResult> {
    return auditedCommit<KillResult>(
      this.store,
      async () => {
        const [existing] = await Promise.all([this.get(name), assertEnvironmentsDeclared(this.store, [environment])]);
        const current = existing.value.killSwitches[environment];
        if (kill === (current !== undefined)) {
          return { commit: {}, audit: [], result: { flag: name, environment, killed: kill, changed: false, killSwitch: current } };
        }
        const killSwitches = { ...existing.value.killSwitches };
        const killSwitch = { reason, actor: actor.name, at: this.now().toISOString() };
        if (kill) killSwitches[environment] = killSwitch;
        else delete killSwitches[environment];
        const flag: StoredFlag = { ...existing.value, killSwitches };
        return {
          commit: { puts: [{ collection: FLAGS, id: name, value: flag, expectVersion: existing.version }] },
          audit: {
            actor,
            action: kill ? 'flag.kill' : 'flag.restore',
            target: { type: 'flag', id: name, environment },
            reason,
            before: { killSwitch: current ?? null },
            after: { killSwitch: kill ? killSwitch : null },
          },
          result: { flag: name, environment, killed: kill, changed: true, killSwitch: kill ? killSwitch : undefined },
        };
      },
      this.now,
      this.awaitApplied,
    );
  }

  /**
   * Upserts an Unleash client payload into one environment, all or nothing: every flag and segment
   * is one commit, so a failure (or a racing writer) never leaves half an import behind.
   */
  async importEnvironment(environment: string, payload: ImportPayload, actor: Actor): Promise<{ imported: number }> {
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
        payload.features.forEach((feature, i) => {
          const existing = flags.get(feature.name)?.value;
          const { enabled, strategies, variants, ...flagLevel } = feature;
          const flag = storedFlagSchema.parse({
            ...existing,
            ...flagLevel,
            environments: { ...existing?.environments, [environment]: { enabled, strategies, variants } },
            killSwitches: existing?.killSwitches ?? {},
          });
          throwIfProblems(danglingInStrategies(strategies, known, `features[${i}].strategies`));
          puts.push({ collection: FLAGS, id: flag.name, value: flag, expectVersion: flags.get(flag.name)?.version ?? 0 });
          audit.push({ actor, action: 'flag.import', target: { type: 'flag', id: flag.name, environment }, before: existing ?? null, after: flag });
        });
        return { commit: { puts }, audit, result: { imported: payload.features.length } };
      },
      this.now,
      this.awaitApplied,
    );
  }

  /**
   * Applies a flags/*.yaml file when its content differs from what it last applied, so files are
   * the source of truth when they change, and changes made through the API survive a plain restart.
   */
  async applyFile(file: FlagFile, relativeName: string): Promise<{ applied: boolean }> {
    const actor: Actor = { type: 'file', id: relativeName, name: relativeName };
    return auditedCommit<{ applied: boolean }>(
      this.store,
      async () => {
        const sourcePut = await fileSourceChange(this.store, `flags:${relativeName}`, file.hash);
        if (!sourcePut) return { commit: {}, audit: [], result: { applied: false } };
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
        file.flags.forEach((definition, i) => {
          const problems = danglingSegmentReferences(definition, known, `flags[${i}].`);
          if (problems.length > 0) throw new FileError(file.file, problems[0]!.path, problems[0]!.message);
          const existing = flags.get(definition.name);
          const flag = storedFlagSchema.parse({ ...definition, killSwitches: existing?.value.killSwitches ?? {} });
          puts.push({ collection: FLAGS, id: flag.name, value: flag, expectVersion: existing?.version ?? 0 });
          audit.push({ actor, action: 'flag.file', target: { type: 'flag', id: flag.name }, before: existing?.value ?? null, after: flag });
        });
        return { commit: { puts }, audit, result: { applied: true } };
      },
      this.now,
      this.awaitApplied,
    );
  }

  private assertSegmentsExist(flag: Pick<FlagDefinition, 'environments'>, known: ReadonlySet<number>): void {
    throwIfProblems(danglingSegmentReferences(flag, known, ''));
  }
}

/** A flag file naming an undeclared environment loads nothing; the error names the first such field. */
async function assertFileEnvironmentsDeclared(store: Store, file: FlagFile): Promise<void> {
  const { undeclared, declared } = await undeclaredAmong(store, file.flags.flatMap((f) => Object.keys(f.environments)));
  if (undeclared.length === 0) return;
  const i = file.flags.findIndex((f) => undeclared.some((env) => env in f.environments));
  const env = Object.keys(file.flags[i]!.environments).find((e) => undeclared.includes(e))!;
  throw new FileError(file.file, `flags[${i}].environments.${env}`, undeclaredMessage(undeclared, declared));
}

function throwIfProblems(problems: Problem[]): void {
  if (problems.length > 0) {
    throw new AppError(400, 'validation_failed', `invalid body: ${problems[0]!.path}: ${problems[0]!.message}`, { issues: problems });
  }
}
