import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { PIPELINE_RUNS, type PipelineRun } from '../../src/pipelines/pipeline-model.js';
import { PipelineRunner } from '../../src/pipelines/pipeline-runner.js';
import type { PipelineService } from '../../src/pipelines/pipeline-service.js';
import { openEmbeddedStore, type Store } from '../../src/store/index.js';

/**
 * Finished pipeline runs pile up and never change: a tick reads the runs still running and those it
 * has not yet seen finished at their version, not every run ever started.
 */
describe('the pipeline runner reads only what may move', () => {
  let store: Store;
  const runsRead: string[][] = [];

  const run = (id: string, state: PipelineRun['state']): PipelineRun => ({
    id,
    pipeline: 'to-prod',
    flag: 'checkout',
    stages: [{ environment: 'staging', policy: 'standard', promoteAfterMs: 0, status: state === 'running' ? 'waiting' : 'completed' }] as PipelineRun['stages'],
    state,
    startedBy: { id: 'alice', name: 'Alice' } as PipelineRun['startedBy'],
    createdAt: '2026-12-01T00:00:00Z',
    updatedAt: '2026-12-01T00:00:00Z',
  });

  beforeAll(async () => {
    store = await openEmbeddedStore(mkdtempSync(path.join(os.tmpdir(), 'rc-pipeline-reads-')));
    await store.commit({
      puts: Array.from({ length: 50 }, (_, i) => ({ collection: PIPELINE_RUNS, id: `done-${i}`, value: run(`done-${i}`, i % 2 ? 'completed' : 'stopped') })),
    });
  });
  afterAll(async () => {
    await store?.close();
  });

  it('reads finished runs once, then again only when one is written', async () => {
    // Every read of runs is noted; a running run would be advanced through the services, which this test has none of.
    const counting = new Proxy(store, {
      get(target, key, receiver) {
        if (key === 'getMany')
          return (collection: string, ids: string[]) => {
            if (collection === PIPELINE_RUNS) runsRead.push([...ids]);
            return target.getMany(collection, ids);
          };
        if (key === 'list') throw new Error('the runner must not list every run');
        const value = Reflect.get(target, key, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const runner = new PipelineRunner(counting, {} as PipelineService, {} as never, createLogger('silent'), {
      replicaId: 'r1',
      tickMs: 1_000,
      now: () => new Date('2026-12-07T00:00:00Z'),
    });
    await runner.tick();
    expect(runsRead.flat()).toHaveLength(50);
    await runner.tick();
    await runner.tick();
    expect(runsRead).toHaveLength(1);
    // A restore rewrites one: read again, once.
    await store.commit({ puts: [{ collection: PIPELINE_RUNS, id: 'done-7', value: { ...run('done-7', 'completed'), updatedAt: '2026-12-02T00:00:00Z' } }] });
    await runner.tick();
    await runner.tick();
    expect(runsRead.slice(1)).toEqual([['done-7']]);
  });
});
