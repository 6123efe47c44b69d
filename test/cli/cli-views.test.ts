import { describe, expect, it } from 'vitest';
import { diffJson, formatChange } from '../../src/cli/json-diff.js';
import { parseLocalFile, readLocalFiles } from '../../src/cli/local-files.js';
import { gatesGlance, progressBar, statusEntries, waitingText } from '../../src/cli/status-view.js';
import { rolloutStatus } from '../../src/rollouts/rollout-status.js';
import { FileError } from '../../src/files/file-error.js';
import { at, bob, HOUR, MINUTE, onStep, policy, rollout } from '../unit/decide-fixtures.js';
import { completedRollout, rolledBackRollout } from '../reports/report-fixtures.js';

describe('json diff', () => {
  it('names each changed field by its path: objects by key, arrays by position', () => {
    const before = {
      name: 'f',
      description: 'old',
      environments: { production: { enabled: true, strategies: [{ parameters: { rollout: '10' } }] }, dev: { enabled: true } },
    };
    const after = {
      name: 'f',
      description: 'new',
      environments: { production: { enabled: true, strategies: [{ parameters: { rollout: '20' } }, { name: 'default' }] }, staging: { enabled: false } },
    };
    expect(diffJson(before, after).map(formatChange)).toEqual([
      '  ~ description: "old" → "new"',
      '  - environments.dev: {"enabled":true}',
      '  ~ environments.production.strategies[0].parameters.rollout: "10" → "20"',
      '  + environments.production.strategies[1]: {"name":"default"}',
      '  + environments.staging: {"enabled":false}',
    ]);
  });

  it('equal values have no changes, whatever their key order', () => {
    expect(diffJson({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 })).toEqual([]);
  });
});

describe('status view', () => {
  it('draws the steps reached and marks the current step', () => {
    expect(progressBar(rollout({ state: 'pending', percentage: 0 }))).toBe('················ 1% › 10% › 50% › 100%');
    expect(progressBar(onStep(1))).toBe('████████········ 1% › [10%] › 50% › 100%');
    expect(progressBar(onStep(3, { state: 'completed' }))).toBe('████████████████ 1% › 10% › 50% › 100%');
    expect(progressBar(rolledBackRollout())).toBe('████············ [1% ✗] › 10% › 50% › 100%');
  });

  it('sums gate verdicts, failures first', () => {
    const gate = (verdict: 'pass' | 'fail' | 'inconclusive') => ({
      rule: 'r',
      metric: 'error_rate',
      cohort: 'treatment',
      threshold: 1,
      value: 0,
      samples: 1,
      verdict,
    });
    expect(gatesGlance([])).toBe('—');
    expect(gatesGlance([gate('pass'), gate('fail'), gate('pass'), gate('inconclusive')])).toBe('1 fail, 1 inconclusive, 2 pass');
  });

  it('says what an active rollout waits for, and hides finished ones unless asked', () => {
    const waiting = (r: ReturnType<typeof onStep>, now: Date) => waitingText(rolloutStatus(r, undefined, now));
    const judged = { stepStartedAt: at(-HOUR).toISOString(), gates: [], plan: policy({ gates: [], stepDefaults: { minSamples: 0 } }) };
    const awaiting = onStep(0, { state: 'awaiting_approval', stepVerdict: { kind: 'healthy' }, ...judged });
    expect(waiting(awaiting, at(MINUTE))).toBe('approval for 10%: 0 of 1 (release-manager)');
    expect(waiting({ ...awaiting, approvals: [{ by: bob, at: at(0).toISOString(), step: 1 }] }, at(MINUTE))).toBe('the next analysis');
    expect(
      waiting(
        onStep(0, {
          stepVerdict: { kind: 'waiting', reason: 'metrics unavailable: timeout' },
          ...judged,
          plan: policy({ gates: [{ metric: 'error_rate', max: 0.01 }], stepDefaults: { minSamples: 0 } }),
        }),
        at(0),
      ),
    ).toBe('gates: 0 of 1 passing (metrics unavailable: timeout); approval for 10%: 0 of 1 (release-manager)');
    const all = [completedRollout(), { ...onStep(1), id: 'r-2' }];
    expect(statusEntries(all, at(MINUTE), false).map((e) => e.id)).toEqual(['r-2']);
    expect(statusEntries(all, at(MINUTE), true).map((e) => [e.id, e.served])).toEqual([
      ['r-1', 'serving 100%'],
      ['r-2', 'serving 10%'],
    ]);
  });
});

describe('local files', () => {
  it('reads flags and policies by directory, else by content', () => {
    expect(parseLocalFile('x/flags/a.yaml', 'flags: []').kind).toBe('flags');
    expect(parseLocalFile('x/a.yaml', 'segments: []').kind).toBe('flags');
    expect(parseLocalFile('x/a.yaml', 'name: p\nsteps: [5, 100]')).toMatchObject({ kind: 'policy', policy: { name: 'p', steps: [5, 100] } });
  });

  it('reads environments.yaml (by its name, even among policies, or by its top-level key) as the environments file', async () => {
    expect(parseLocalFile('x/policies/environments.yaml', 'environments: [{ name: production, rules: { minStepDuration: 5m } }]')).toMatchObject({
      kind: 'environments',
      environments: [{ name: 'production', rules: { minStepDuration: 300_000 } }],
    });
    expect(parseLocalFile('x/envs.yaml', 'environments: []').kind).toBe('environments');
    // The repository's own layout applies as it is: flags, policies and the environments file.
    const { files, errors } = await readLocalFiles(['.']);
    expect(errors.map((e) => e.message)).toEqual([]);
    expect(files.map((f) => f.kind).sort()).toEqual(['environments', 'flags', 'flags', 'policy']);
  });

  it('a stray key is named by the strict schema of the kind the file is read as', () => {
    const error = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        return err as FileError;
      }
      throw new Error('expected a FileError');
    };
    expect(error(() => parseLocalFile('x/policies/p.yaml', 'flags: []\nname: p')).message).toMatch(/^x\/policies\/p\.yaml: \(root\): .*flags/);
    expect(error(() => parseLocalFile('x/a.yaml', 'flag:\n  - name: f')).message).toBe(
      'x/a.yaml: (root): expected a flags file (top-level "flags" or "segments") or a policy (top-level "name" and "steps"); found "flag"',
    );
  });
});
