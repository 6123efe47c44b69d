import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';
import { startTestController, uniquePrefix, type TestController } from '../support/controller.js';
import { spawnController } from '../support/controller-process.js';
import { emptyDir } from '../support/controller.js';
import { createRedisStore } from '../../src/store/redis-store.js';
import { MAX_LISTED_PROBLEMS } from '../../src/validation/issues.js';
import { MAX_JSON_DEPTH } from '../../src/validation/json-depth.js';

/**
 * Defect 10 of issue 13: a backup whose flag is `42`, or whose strategies are a string, restored with
 * 200 and a verified chain; a controller pointed at that prefix then refused to start with a raw zod
 * dump naming neither collection nor document; and 10,000 levels of nesting answered 500 (stack
 * overflow). On a redis-server of the test's own.
 */

const ENV = 'production';
const flagBody = { environments: { [ENV]: { enabled: true, strategies: [{ name: 'default' }] } } };

describe('restoring a backup with invalid documents', () => {
  let redis: RedisServer;
  let t: TestController;
  let backup: any;

  beforeAll(async () => {
    redis = await startRedisServer();
    t = await startTestController({ env: { REDIS_URL: redis.url } });
    for (const name of ['good-a', 'good-b']) expect((await t.api('PUT', `/api/admin/flags/${name}`, flagBody)).status).toBe(201);
    backup = await (await fetch(`${t.url}/api/admin/backup`, { headers: { Authorization: t.adminToken } })).json();
  });
  afterAll(async () => {
    await t?.stop();
    await redis?.stop();
  });

  /** The backup with its flag documents changed by `edit`. */
  const withFlags = (edit: (flags: Array<{ id: string; value: any }>) => void) => {
    const copy = structuredClone(backup);
    edit(copy.collections.flags);
    return copy;
  };
  const restore = (body: unknown, prefix: string) => t.api('POST', `/api/admin/restore?prefix=${prefix}`, body);
  const indexOf = (id: string) => (backup.collections.flags as Array<{ id: string }>).findIndex((d) => d.id === id);

  it('refuses a flag that is not a flag, naming collection, document and field, and writes nothing', async () => {
    const prefix = uniquePrefix('bad-flag');
    const res = await restore(
      withFlags((flags) => {
        flags[indexOf('good-a')]!.value = 42;
      }),
      prefix,
    );
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/^invalid backup: document flags\/good-a: \(root\): .*expected object/);
    expect(res.body.details.issues[0]).toMatchObject({
      collection: 'flags',
      document: 'good-a',
      field: '(root)',
      path: `collections.flags[${indexOf('good-a')}].value`,
    });
    // Nothing was written: the same prefix takes the valid backup.
    expect((await restore(backup, prefix)).status).toBe(200);
  });

  it('refuses strategies that are a string, naming the field path inside the document', async () => {
    const res = await restore(
      withFlags((flags) => {
        flags[indexOf('good-b')]!.value.environments[ENV].strategies = 'default';
      }),
      uniquePrefix('bad-strategies'),
    );
    expect(res.status).toBe(400);
    expect(res.body.details.issues).toEqual([
      expect.objectContaining({
        collection: 'flags',
        document: 'good-b',
        field: `environments.${ENV}.strategies`,
        path: `collections.flags[${indexOf('good-b')}].value.environments.${ENV}.strategies`,
      }),
    ]);
  });

  it('refuses a document stored under another id than its own, and an id given twice', async () => {
    const res = await restore(
      withFlags((flags) => {
        flags[indexOf('good-a')]!.value.name = 'good-z';
        flags.push(structuredClone(flags[indexOf('good-b')]!));
      }),
      uniquePrefix('bad-ids'),
    );
    expect(res.status).toBe(400);
    const messages = res.body.details.issues.map((i: { document: string; message: string }) => `${i.document}: ${i.message}`);
    expect(messages).toEqual(['good-a: stored under the id "good-a" but names itself "good-z"', 'good-b: a second document with the id "good-b"']);
  });

  it('lists a bounded number of problems and counts the rest', async () => {
    const res = await restore(
      withFlags((flags) => {
        for (let i = 0; i < 200; i++) flags.push({ id: `bad-${i}`, value: i });
      }),
      uniquePrefix('many'),
    );
    expect(res.status).toBe(400);
    expect(res.body.details.issues).toHaveLength(MAX_LISTED_PROBLEMS);
    expect(res.body.details.unlisted).toBe(200 - MAX_LISTED_PROBLEMS);
    expect(res.body.message).toContain(`and ${200 - 1} more problems`);
  });

  it('refuses 10,000 levels of nesting with a clear 400 before parsing, and keeps serving', async () => {
    const deep = `${'['.repeat(10_000)}${']'.repeat(10_000)}`;
    const text = JSON.stringify(withFlags((flags) => (flags[0]!.value.description = 'DEEP'))).replace('"DEEP"', deep);
    const res = await fetch(`${t.url}/api/admin/restore?prefix=${uniquePrefix('deep')}`, {
      method: 'POST',
      headers: { Authorization: t.adminToken, 'Content-Type': 'application/json' },
      body: text,
    });
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body).toMatchObject({ error: 'body_too_deep', message: expect.stringContaining(`nested deeper than ${MAX_JSON_DEPTH} levels`) });
    expect((await t.api('GET', '/api/admin/flags')).status).toBe(200);
  });
});

describe('starting on a store that holds an invalid document', () => {
  it('starts, serves every other flag, and names the document and field at ERROR', async () => {
    const redis = await startRedisServer();
    const prefix = uniquePrefix('bad-start');
    const adminToken = `admin-${prefix}`;
    try {
      // Written straight into the store, as an older version or a hand edit might have left them.
      const store = await createRedisStore(redis.url, prefix);
      const flag = (name: string, strategies: unknown) => ({ name, project: 'default', environments: { [ENV]: { enabled: true, strategies } } });
      await store.commit({
        puts: [
          { collection: 'flags', id: 'fine', value: flag('fine', []) },
          { collection: 'flags', id: 'broken', value: flag('broken', 'default') },
          { collection: 'flags', id: 'number', value: 42 },
        ],
      });
      await store.close();
      const ctl = await spawnController({
        REDIS_URL: redis.url,
        REDIS_PREFIX: prefix,
        ADMIN_TOKEN: adminToken,
        FLAGS_DIR: emptyDir(),
        POLICIES_DIR: emptyDir(),
      });
      try {
        const created = await fetch(`${ctl.url}/api/admin/tokens`, {
          method: 'POST',
          headers: { Authorization: adminToken, 'Content-Type': 'application/json' },
          body: JSON.stringify({ kind: 'client', environment: ENV, name: 'sdk' }),
        });
        const { secret } = await created.json();
        const served = await (await fetch(`${ctl.url}/api/client/features`, { headers: { Authorization: secret } })).json();
        expect(served.features.map((f: { name: string }) => f.name)).toEqual(['fine']);
        const errors = ctl
          .output()
          .split('\n')
          .filter((line) => line.startsWith('{') && JSON.parse(line).level === 50)
          .map((line) => JSON.parse(line));
        expect(errors).toEqual(
          expect.arrayContaining([
            expect.objectContaining({ collection: 'flags', document: 'broken', field: `environments.${ENV}.strategies` }),
            expect.objectContaining({ collection: 'flags', document: 'number', field: '(root)' }),
          ]),
        );
        expect(errors.find((e) => e.document === 'broken').msg).toMatch(/^stored document flags\/broken: environments\.production\.strategies: /);
        expect(ctl.output()).not.toContain('"code": "invalid_type"'); // no raw zod dump
      } finally {
        await ctl.stop();
      }
    } finally {
      await redis.stop();
    }
  }, 60_000);
});
