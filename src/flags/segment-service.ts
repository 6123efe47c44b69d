import type { Store, Versioned } from '../store/port.js';
import { auditedCommit } from '../audit/audited-commit.js';
import type { Actor } from '../audit/chain.js';
import { AppError } from '../errors/app-error.js';
import { SEGMENTS } from './collections.js';
import { segmentSchema, type Segment } from './schema.js';

/**
 * Segments written one at a time (the dashboard's and the admin API's): a named list of
 * constraints that strategies reference by id. A write is one compare-and-set commit with its
 * audit event (`segment.put`); flag files and imports write them in their own commits.
 */
export class SegmentService {
  constructor(
    private readonly store: Store,
    private readonly now: () => Date,
    private readonly awaitApplied: (feedSeq: number) => Promise<void> = async () => {},
  ) {}

  async list(): Promise<Segment[]> {
    return (await this.store.list<Segment>(SEGMENTS)).map((d) => d.value).sort((a, b) => a.id - b.id);
  }

  async get(id: number): Promise<Versioned<Segment>> {
    const doc = await this.store.get<Segment>(SEGMENTS, String(id));
    if (!doc) throw AppError.notFound(`segment ${id}`);
    return doc;
  }

  /**
   * Creates or replaces a segment (already validated as authored). Every flag whose strategies
   * name it is evaluated with its new constraints at once.
   * @param ifVersion the version the caller read (0: it must not exist yet); a change made since is refused with 412.
   */
  async put(segment: Segment, actor: Actor, reason?: string, ifVersion?: number): Promise<{ segment: Segment; created: boolean; version: number }> {
    return auditedCommit(
      this.store,
      async () => {
        const existing = await this.store.get<Segment>(SEGMENTS, String(segment.id));
        if (ifVersion !== undefined && (existing?.version ?? 0) !== ifVersion) {
          throw new AppError('stale', 'version_mismatch', `segment ${segment.id} is at version ${existing?.version ?? 0}, not ${ifVersion}: read it again`);
        }
        const value = segmentSchema.parse(segment);
        return {
          commit: { puts: [{ collection: SEGMENTS, id: String(value.id), value, expectVersion: existing?.version ?? 0 }] },
          audit: { actor, action: 'segment.put', target: { type: 'segment', id: String(value.id) }, reason, before: existing?.value ?? null, after: value },
          result: { segment: value, created: !existing, version: (existing?.version ?? 0) + 1 },
        };
      },
      this.now,
      this.awaitApplied,
    );
  }
}
