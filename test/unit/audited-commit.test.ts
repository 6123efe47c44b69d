import { describe, expect, it } from 'vitest';
import { auditedCommit, HEAD_ID, META } from '../../src/audit/audited-commit.js';
import { AppError, ConflictError } from '../../src/errors/app-error.js';
import type { Commit, Store } from '../../src/store/port.js';

/** auditedCommit's bound: in time, not attempts; a conflict it cannot get past is a 503 with Retry-After. */
const actor = { type: 'system', id: 't', name: 't' } as const;
const mutation = () => ({
  commit: { puts: [{ collection: 'flags', id: 'f', value: {}, expectVersion: 0 }] },
  audit: { actor, action: 'flag.put', target: { type: 'flag', id: 'f' }, before: null, after: {} },
  result: 'done',
});

function storeThat(commit: (c: Commit) => Promise<{ seq: number; versions: Record<string, number> }>): Store {
  return { get: async () => null, commit } as unknown as Store;
}

describe('auditedCommit under contention', () => {
  it('keeps trying while the head is contended, until it gets through', async () => {
    let attempts = 0;
    const store = storeThat(async (c) => {
      if (++attempts < 30) throw new ConflictError('version', `put ${META}/${HEAD_ID}: expected version 0, found 1`);
      expect(c.puts?.map((p) => `${p.collection}/${p.id}`)).toEqual(['flags/f', `${META}/${HEAD_ID}`]);
      return { seq: 1, versions: {} };
    });
    // Thirty attempts: more than the 20 it used to give up after.
    await expect(
      auditedCommit(
        store,
        async () => mutation(),
        () => new Date(),
      ),
    ).resolves.toBe('done');
    expect(attempts).toBe(30);
  });

  it('gives up after its time budget with 503 store_busy and a Retry-After, never the conflict itself', async () => {
    const store = storeThat(async () => {
      throw new ConflictError('version', 'put meta/audit-head: expected version 0, found 1');
    });
    const started = performance.now();
    const err = await auditedCommit(
      store,
      async () => mutation(),
      () => new Date(),
      undefined,
      200,
    ).catch((e: unknown) => e);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ kind: 'unavailable', errorId: 'store_busy', retryAfterSeconds: 2 });
  });

  it('does not retry a lost fence', async () => {
    let attempts = 0;
    const store = storeThat(async () => {
      attempts++;
      throw new ConflictError('fence', 'fence: lease "rollout-leader" is not held');
    });
    await expect(
      auditedCommit(
        store,
        async () => mutation(),
        () => new Date(),
      ),
    ).rejects.toMatchObject({ kind: 'fence' });
    expect(attempts).toBe(1);
  });
});
