import { describe, expect, it } from 'vitest';
import { GENESIS_HASH, sealEvent, type Actor, type AuditEvent, type AuditHead } from '../../src/audit/chain.js';
import { BACKED_UP_COLLECTIONS, BACKUP_FORMAT } from '../../src/backup/backup-format.js';
import { parseBackup, planRestore, RESTORE_ACTION, RESTORE_MARKER_ID, restoreCommits } from '../../src/backup/restore-backup.js';
import type { Commit } from '../../src/store/port.js';
import { AppError } from '../../src/errors/app-error.js';

/** The pure half of a restore: checking a backup and planning its one commit, without a store. */
const person: Actor = { type: 'token', id: 't1', name: 'Ada Admin' };
const restorer: Actor = { type: 'token', id: 't9', name: 'Ops' };

function chain(n: number): { events: AuditEvent[]; head: AuditHead } {
  let head: AuditHead = { seq: 0, hash: GENESIS_HASH };
  const events: AuditEvent[] = [];
  for (let i = 1; i <= n; i++) {
    const e = sealEvent(
      { actor: person, action: 'flag.update', target: { type: 'flag', id: `f${i}` }, before: null, after: { i } },
      head,
      `2026-01-01T00:00:0${i}.000Z`,
    );
    events.push(e);
    head = { seq: e.seq, hash: e.hash };
  }
  return { events, head };
}

/** A rollout record as the store holds it (checked like every document of a backup). */
function rolloutRecord(id: string) {
  const at = '2026-01-01T00:00:00.000Z';
  return {
    id,
    flag: 'a',
    environment: 'production',
    policy: 'standard',
    planId: 'p1',
    historyLength: 1,
    strategyId: 's1',
    state: 'paused',
    pausedFrom: 'running',
    pauseReason: 'held',
    stepIndex: 0,
    percentage: 1,
    stepStartedAt: at,
    startedBy: { id: 't1', name: 'Ada Admin' },
    createdAt: at,
    updatedAt: at,
    stepVerdict: { kind: 'waiting', reason: 'held' },
    gates: [],
    rollbackChecks: [],
    breachingSince: [],
    checks: { failed: 0, consecutiveFailed: 0, inconclusive: 0, providerErrors: 0 },
    approvals: [],
  };
}

function backup(overrides: Record<string, unknown> = {}) {
  const log = chain(3);
  return {
    format: BACKUP_FORMAT,
    formatVersion: 1,
    createdAt: '2026-01-02T00:00:00.000Z',
    controllerVersion: '0.1.0',
    collections: {
      flags: [
        { id: 'a', value: { name: 'a' } },
        { id: 'b', value: { name: 'b' } },
      ],
      rollouts: [{ id: 'r1', value: rolloutRecord('r1') }],
    },
    audit: log,
    ...overrides,
  };
}

function refusal(input: unknown): AppError {
  try {
    parseBackup(input);
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error('the backup was accepted');
}

describe('checking a backup', () => {
  it('accepts a well-formed backup whose chain verifies', () => {
    expect(parseBackup(backup()).collections.flags).toHaveLength(2);
  });

  it('refuses an unknown format, a newer format version and an unknown collection with 400, naming the field', () => {
    expect(refusal(backup({ format: 'something-else' }))).toMatchObject({ kind: 'invalid', message: expect.stringMatching(/^invalid backup: format/) });
    expect(refusal(backup({ formatVersion: 2 })).message).toMatch(/formatVersion: made by a newer controller/);
    const unknown = refusal(backup({ collections: { widgets: [] } }));
    expect(unknown).toMatchObject({ kind: 'invalid' });
    expect(unknown.message).toMatch(/collections/);
  });

  it('refuses an edited, reordered or truncated audit log with 422, naming where it breaks', () => {
    const edited = backup();
    (edited.audit.events[1] as AuditEvent).after = { i: 99 };
    expect(refusal(edited)).toMatchObject({ kind: 'refused', details: { brokenAtSeq: 2 } });
    const reordered = backup();
    reordered.audit.events.reverse();
    expect(refusal(reordered)).toMatchObject({ kind: 'refused', details: { brokenAtSeq: 1 } });
    const truncated = backup();
    truncated.audit.events.pop();
    expect(refusal(truncated)).toMatchObject({ kind: 'refused', message: expect.stringMatching(/head records event 3/) });
  });
});

const AT = '2026-02-01T00:00:00.000Z';

/** The plan of a backup that fits one commit, and that commit. */
function singleCommit(b: ReturnType<typeof parseBackup>, target = 'restored') {
  const plan = planRestore(b, restorer, AT, target);
  const commits = restoreCommits(plan, AT);
  expect(commits).toHaveLength(1);
  return { commit: commits[0]!, restoreEvent: plan.restoreEvent };
}

describe('planning the restore commit', () => {
  it('writes every document as new, quiet where its feature writes it quietly', () => {
    const { commit } = singleCommit(parseBackup(backup()));
    const docs = commit.puts!.filter((p) => p.collection !== 'meta');
    expect(docs.map((p) => `${p.collection}/${p.id}`)).toEqual(['flags/a', 'flags/b', 'rollouts/r1']);
    expect(docs.every((p) => p.expectVersion === 0)).toBe(true);
    const quiet = new Map(BACKED_UP_COLLECTIONS.map((c) => [c.name, c.quiet]));
    for (const p of docs) expect(p.quiet).toBe(quiet.get(p.collection));
    expect(quiet.get('flags')).toBe(false);
    expect(quiet.get('rollouts')).toBe(true);
  });

  it("appends the log at its own positions, then a restore event chained on the backup's head", () => {
    const b = parseBackup(backup());
    const { commit, restoreEvent } = singleCommit(b);
    expect(commit.appends!.map((a) => a.seq)).toEqual([1, 2, 3, 4]);
    expect(commit.appends!.slice(0, 3).map((a) => a.entry)).toEqual(b.audit.events);
    expect(restoreEvent).toMatchObject({
      seq: 4,
      prevHash: b.audit.head.hash,
      action: RESTORE_ACTION,
      actor: restorer,
      target: { type: 'store', id: 'restored' },
      after: { backupCreatedAt: b.createdAt, auditEvents: 3, collections: { flags: 2, rollouts: 1, tokens: 0 } },
    });
    expect(commit.puts!.find((p) => p.collection === 'meta')).toMatchObject({ id: 'audit-head', value: { seq: 4, hash: restoreEvent.hash }, expectVersion: 0 });
  });

  it('restores a backup with an empty log: the restore is the first event', () => {
    const { commit, restoreEvent } = singleCommit(parseBackup(backup({ audit: chain(0), collections: {} })), 'x');
    expect(restoreEvent).toMatchObject({ seq: 1, prevHash: GENESIS_HASH });
    expect(commit.appends!.map((a) => a.seq)).toEqual([1]);
  });
});

describe('staging a restore too large for one commit', () => {
  const b = parseBackup(backup({ audit: chain(9) }));
  const plan = planRestore(b, restorer, AT, 'restored');
  const commits: Commit[] = restoreCommits(plan, AT, 4);
  const isMarker = (p: { collection: string; id: string }) => p.collection === 'meta' && p.id === RESTORE_MARKER_ID;

  it('keeps every commit within the limit and writes each document and event once, in order', () => {
    for (const c of commits) expect((c.puts?.length ?? 0) + (c.appends?.length ?? 0) + (c.deletes?.length ?? 0)).toBeLessThanOrEqual(4);
    const docs = commits.flatMap((c) => c.puts ?? []).filter((p) => p.collection !== 'meta');
    expect(docs).toEqual(plan.documents);
    // The log first, so that an interrupted restore leaves events beyond a missing head.
    expect(commits[0]!.appends!.length).toBeGreaterThan(0);
    expect(commits.flatMap((c) => c.appends ?? []).map((a) => a.seq)).toEqual([...Array(10).keys()].map((i) => i + 1));
  });

  it('opens with a marker and ends by writing the head and the restore event and removing the marker', () => {
    expect(commits[0]!.puts!.filter(isMarker)).toHaveLength(1);
    expect(
      commits
        .slice(1)
        .flatMap((c) => c.puts ?? [])
        .filter(isMarker),
    ).toEqual([]);
    const last = commits.at(-1)!;
    expect(last).toEqual({
      puts: [plan.head],
      appends: [{ log: 'audit', seq: 10, entry: plan.restoreEvent }],
      deletes: [{ collection: 'meta', id: RESTORE_MARKER_ID, expectVersion: 1, quiet: true }],
    });
    // Nothing before the last commit writes the head: until then the log does not verify.
    expect(
      commits
        .slice(0, -1)
        .flatMap((c) => c.puts ?? [])
        .filter((p) => p.id === 'audit-head'),
    ).toEqual([]);
  });
});
