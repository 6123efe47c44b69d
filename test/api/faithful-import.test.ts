import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readExposures } from '../../src/metrics/exposures.js';
import { parseFlagFile } from '../../src/flags/flag-files.js';
import { FileError } from '../../src/files/file-error.js';
import { startTestController, type TestController } from '../support/controller.js';
import { clientGet } from '../sdk/sdk-helpers.js';
import { post } from '../evaluation/support.js';

/**
 * Issue 17, "Faithful storage and relay": an import holds what an Unleash server hands SDKs as it
 * came and reports, per flag, what a person could not have written; authoring (PUT, flag files)
 * stays strict and names the field; names in any Unicode are addressed by every route, on Redis and
 * on the embedded store, and never meet another flag's or the controller's own keys.
 */

const SPEC = { 'Unleash-Client-Spec': '5.2.0' };
const UTF8 = 'Feature.UTF-8.😊_φriend_你好_🌍';
const AUTHORED_NAME = 'a flag name: letters, digits and _ . ~ - (at most 100)';
const NOT_AN_OPERATOR = '"STR_SOUNDS_LIKE" is not one of IN, NOT_IN, STR_ENDS_WITH, STR_STARTS_WITH, STR_CONTAINS, NUM_EQ';

const on = (strategies: unknown[]) => ({ enabled: true, strategies, variants: [] });
const keptPayload = {
  version: 2,
  features: [
    { name: 'kept-operator', ...on([{ name: 'default', constraints: [{ contextName: 'name', operator: 'STR_SOUNDS_LIKE', values: ['smith'] }] }]) },
    { name: 'kept-regex', ...on([{ name: 'default', constraints: [{ contextName: 'email', operator: 'REGEX', value: '(unclosed', values: [] }] }]) },
    { name: 'kept-segment', ...on([{ name: 'default', segments: [77, 9999] }]) },
    { name: UTF8, ...on([{ name: 'default' }]), dependencies: [{ feature: 'kept-operator' }] },
    { name: 'plain', ...on([{ name: 'default' }]) },
  ],
  segments: [{ id: 77, name: 'future', constraints: [{ contextName: 'tier', operator: 'IN_FUTURE_SET', values: ['gold'] }] }],
};

describe('on Redis', () => {
  let t: TestController;
  let client: string;
  let frontend: string;
  beforeAll(async () => {
    t = await startTestController();
    [client, frontend] = await Promise.all([t.token({ kind: 'client', environment: 'production' }), t.token({ kind: 'frontend', environment: 'production' })]);
  });
  afterAll(() => t?.stop());

  it('an import keeps what authoring would refuse, serves it as it came, and reports it per flag with the path', async () => {
    const res = await t.api('POST', '/api/admin/environments/production/import', keptPayload);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.imported).toBe(5);
    expect(res.body.unlisted).toBeUndefined();
    expect(res.body.kept).toEqual([
      { segment: 77, path: 'segments[0].constraints[0].operator', problem: expect.stringMatching(/^"IN_FUTURE_SET" is not one of IN, /) },
      { flag: 'kept-operator', path: 'features[0].strategies[0].constraints[0].operator', problem: expect.stringContaining(NOT_AN_OPERATOR) },
      { flag: 'kept-regex', path: 'features[1].strategies[0].constraints[0].value', problem: 'not a valid regular expression' },
      { flag: 'kept-segment', path: 'features[2].strategies[0].segments[1]', problem: 'segment 9999 does not exist' },
      { flag: UTF8, path: 'features[3].name', problem: AUTHORED_NAME },
    ]);
    const served = (await clientGet(t, client, '/api/client/features', SPEC)).body;
    const byName = (name: string) => served.features.find((f: { name: string }) => f.name === name);
    expect(byName('kept-operator').strategies[0].constraints[0].operator).toBe('STR_SOUNDS_LIKE');
    expect(byName('kept-regex').strategies[0].constraints[0].value).toBe('(unclosed');
    expect(byName('kept-segment').strategies[0].segments).toEqual([77, 9999]);
    expect(byName(UTF8)).toMatchObject({ name: UTF8, dependencies: [{ feature: 'kept-operator' }] });
    expect(served.segments.find((s: { id: number }) => s.id === 77).constraints[0].operator).toBe('IN_FUTURE_SET');
    // Old SDKs get the missing segment as a constraint that never holds, as before.
    const old = (await clientGet(t, client, '/api/client/features')).body.features.find((f: { name: string }) => f.name === 'kept-segment');
    expect(old.strategies[0].constraints.map((c: { contextName: string }) => c.contextName)).toEqual(['tier', '__missing_segment_9999']);
    // The server's evaluation treats each as the specification says: such a constraint or strategy matches no one.
    const toggles = (await post(t, '/api/frontend', { context: { userId: 'u', properties: { name: 'smith', email: 'x', tier: 'gold' } } }, frontend)).body
      .toggles;
    expect(toggles.map((x: { name: string }) => x.name).sort()).toEqual(['plain']);
    // A clean import answers as it always did.
    const clean = await t.api('POST', '/api/admin/environments/staging/import', { features: [{ name: 'plain', ...on([{ name: 'default' }]) }] });
    expect(clean.body).toEqual({ imported: 1 });
  });

  it('lists at most 100 kept values and counts the rest', async () => {
    const features = Array.from({ length: 120 }, (_, i) => ({
      name: `many-${i}`,
      ...on([{ name: 'default', constraints: [{ contextName: 'x', operator: 'LATER_OPERATOR', values: [] }] }]),
    }));
    const res = await t.api('POST', '/api/admin/environments/development/import', { features });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ imported: 120, unlisted: 20 });
    expect(res.body.kept).toHaveLength(100);
  });

  it.each([
    ['an empty name', '', 'cannot be empty'],
    ['a control character', 'line\nbreak', 'cannot hold control characters'],
    ['a lone surrogate', 'half\ud83d', 'well-formed Unicode'],
    ['"."', '.', 'no URL path can name it'],
    ['"..', '..', 'no URL path can name it'],
    ['the release-outcome prefix', '@release.spring', 'cannot start with "@release."'],
    ['256 characters', 'é'.repeat(256), 'at most 255 characters (this one has 256)'],
    ['600 emoji', '😊'.repeat(600), 'at most 255 characters'],
  ])('an import refuses a name no store, route or screen could hold: %s, with the path, and imports nothing', async (_what, name, problem) => {
    const res = await t.api('POST', '/api/admin/environments/production/import', {
      features: [
        { name: 'innocent', ...on([]) },
        { name, ...on([]) },
      ],
    });
    expect(res.status).toBe(400);
    expect(res.body.message).toContain(`features[1].name: `);
    expect(res.body.message).toContain(problem);
    expect((await t.api('GET', '/api/admin/flags/innocent')).status).toBe(404);
  });

  it('a name of 255 characters (1,020 bytes of UTF-8) is held and addressed', async () => {
    const name = '😊'.repeat(255);
    expect((await t.api('POST', '/api/admin/environments/production/import', { features: [{ name, ...on([{ name: 'default' }]) }] })).status).toBe(200);
    const one = await clientGet(t, client, `/api/client/features/${encodeURIComponent(name)}`);
    expect(one.status).toBe(200);
    expect(one.body.name).toBe(name);
  });

  it('authoring refuses what an import keeps, naming the field, and stores nothing', async () => {
    const env = (strategies: unknown[]) => ({ environments: { production: { enabled: true, strategies } } });
    const refusals: Array<[string, unknown, string]> = [
      [
        '/api/admin/flags/authored',
        env([{ name: 'default', constraints: [{ contextName: 'name', operator: 'STR_SOUNDS_LIKE', values: [] }] }]),
        `environments.production.strategies[0].constraints[0].operator: ${NOT_AN_OPERATOR}`,
      ],
      [
        '/api/admin/flags/authored',
        env([{ name: 'default', constraints: [{ contextName: 'email', operator: 'REGEX', value: '(unclosed' }] }]),
        'environments.production.strategies[0].constraints[0].value: not a valid regular expression',
      ],
      [
        '/api/admin/flags/authored',
        env([{ name: 'default', segments: [9999] }]),
        'environments.production.strategies[0].segments[0]: segment 9999 does not exist',
      ],
      ['/api/admin/flags/authored', { ...env([]), dependencies: [{ feature: UTF8 }] }, `dependencies[0].feature: ${AUTHORED_NAME}`],
      [`/api/admin/flags/${encodeURIComponent(UTF8)}`, env([{ name: 'default' }]), `name: ${AUTHORED_NAME}`],
    ];
    for (const [route, body, message] of refusals) {
      const res = await t.api('PUT', route, body);
      expect(res.status, route).toBe(400);
      expect(res.body.message, route).toContain(message);
    }
    expect((await t.api('GET', '/api/admin/flags/authored')).status).toBe(404);
  });

  it('a json payload that does not parse: refused by a PUT at its path (strategy and environment variants), kept by an import, reported and served as it came', async () => {
    const broken = { type: 'json', value: '{"theme": dark}' };
    const variant = { name: 'blue', weight: 1000, weightType: 'variable', stickiness: 'default', payload: broken };
    const strategyVariant = { environments: { production: { enabled: true, strategies: [{ name: 'default', variants: [variant] }] } } };
    const environmentVariant = { environments: { production: { enabled: true, strategies: [{ name: 'default' }], variants: [variant] } } };
    const notJson = 'not valid JSON (a payload of type "json" must parse as JSON)';
    for (const [body, path] of [
      [strategyVariant, 'environments.production.strategies[0].variants[0].payload.value'],
      [environmentVariant, 'environments.production.variants[0].payload.value'],
    ] as const) {
      const res = await t.api('PUT', '/api/admin/flags/json-authored', body);
      expect(res.status, path).toBe(400);
      expect(res.body.message, path).toContain(`${path}: ${notJson}`);
      expect(res.body.details.issues, path).toContainEqual(expect.objectContaining({ path }));
    }
    expect((await t.api('GET', '/api/admin/flags/json-authored')).status).toBe(404);
    // The same flag with JSON that parses is written.
    const fixed = {
      environments: {
        production: { ...environmentVariant.environments.production, variants: [{ ...variant, payload: { type: 'json', value: '{"theme": "dark"}' } }] },
      },
    };
    expect((await t.api('PUT', '/api/admin/flags/json-authored', fixed)).status).toBe(201);

    const res = await t.api('POST', '/api/admin/environments/production/import', {
      features: [
        { name: 'json-in-strategy', enabled: true, strategies: [{ name: 'default', variants: [variant] }], variants: [] },
        { name: 'json-in-environment', enabled: true, strategies: [{ name: 'default' }], variants: [variant] },
      ],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.kept).toEqual([
      { flag: 'json-in-strategy', path: 'features[0].strategies[0].variants[0].payload.value', problem: notJson },
      { flag: 'json-in-environment', path: 'features[1].variants[0].payload.value', problem: notJson },
    ]);
    const served = (await clientGet(t, client, '/api/client/features', SPEC)).body.features;
    const byName = (name: string) => served.find((f: { name: string }) => f.name === name);
    expect(byName('json-in-strategy').strategies[0].variants[0].payload).toEqual(broken);
    expect(byName('json-in-environment').variants[0].payload).toEqual(broken);
  });

  it('an imported flag with such a value can be read, killed, restored and deleted, but not rewritten until fixed', async () => {
    const route = `/api/admin/flags/${encodeURIComponent('kept-regex')}`;
    const read = await t.api('GET', route);
    expect(read.body.environments.production.strategies[0].constraints[0].value).toBe('(unclosed');
    expect((await t.api('PUT', route, { environments: read.body.environments })).status).toBe(400);
    expect((await t.api('POST', `${route}/environments/production/kill`, { reason: 'regex typo' })).body).toMatchObject({ killed: true });
    expect((await t.api('POST', `${route}/environments/production/restore`, { reason: 'fixed upstream' })).body).toMatchObject({ killed: false });
  });

  it('SDK metrics for names with ":" count under each flag, never under another', async () => {
    const names = ['meter', 'meter:1', `meter:${Date.now()}`, 'meter:production:x'];
    expect(
      (await t.api('POST', '/api/admin/environments/production/import', { features: names.map((name) => ({ name, ...on([{ name: 'default' }]) })) })).status,
    ).toBe(200);
    const toggles = Object.fromEntries(names.map((name, i) => [name, { yes: i + 1, no: 0 }]));
    const report = { appName: 'shop', bucket: { start: new Date().toISOString(), stop: new Date().toISOString(), toggles } };
    expect((await t.api('POST', '/api/client/metrics', report, client)).status).toBe(202);
    const now = Date.now();
    for (const [i, name] of names.entries())
      expect((await readExposures(t.controller.store, 'production', name, now - 120_000, now + 1)).yes, name).toBe(i + 1);
  });
});

/** Names that mean something to URLs, paths, keys, HTML or Markdown, each addressed through every route that names a flag. */
const ODD_NAMES = [
  UTF8,
  'slash/in/name',
  'colon:in:name',
  'at@sign',
  'space in name',
  'query?and#hash%20',
  '<b onmouseover=x>bold</b>',
  '../../etc/passwd',
  'outcome:production:x:0',
  // A Redis Cluster hash tag: keys start with the deployment's own {prefix}, whose tag is the first and so the one that counts.
  '{hash}tag',
];

describe.each(['redis', 'embedded'] as const)('names in any Unicode, on the %s store', (store) => {
  let t: TestController;
  let dataDir: string | undefined;
  beforeAll(async () => {
    dataDir = store === 'embedded' ? mkdtempSync(path.join(os.tmpdir(), 'rc-names-')) : undefined;
    t = await startTestController({ embedded: store === 'embedded', dataDir });
    const res = await t.api('POST', '/api/admin/environments/production/import', {
      features: ODD_NAMES.map((name) => ({ name, ...on([{ name: 'default' }]) })),
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  });
  afterAll(() => t?.stop());

  it('round-trip through the admin, client, frontend and OFREP routes', async () => {
    const [client, frontend] = await Promise.all([
      t.token({ kind: 'client', environment: 'production' }),
      t.token({ kind: 'frontend', environment: 'production' }),
    ]);
    const listed = (await t.api('GET', '/api/admin/flags')).body.flags.map((f: { name: string }) => f.name);
    expect(listed).toEqual(expect.arrayContaining(ODD_NAMES));
    const toggles = (await post(t, '/api/frontend', { context: { userId: 'u' } }, frontend)).body.toggles.map((x: { name: string }) => x.name);
    expect(toggles).toEqual(expect.arrayContaining(ODD_NAMES));
    for (const name of ODD_NAMES) {
      const route = `/api/admin/flags/${encodeURIComponent(name)}`;
      expect((await t.api('GET', route)).body.name, name).toBe(name);
      expect((await clientGet(t, client, `/api/client/features/${encodeURIComponent(name)}`)).body, name).toMatchObject({ name, enabled: true });
      const ofrep = await post(t, `/ofrep/v1/evaluate/flags/${encodeURIComponent(name)}`, { context: { targetingKey: 'u' } }, frontend);
      expect(ofrep.body, name).toMatchObject({ key: name, value: true });
      expect((await t.api('POST', `${route}/environments/production/kill`, { reason: 'drill' })).body, name).toMatchObject({ flag: name, killed: true });
      expect((await clientGet(t, client, `/api/client/features/${encodeURIComponent(name)}`)).body.enabled, name).toBe(false);
      expect((await t.api('POST', `${route}/environments/production/restore`, { reason: 'drill over' })).body, name).toMatchObject({ killed: false });
    }
    // Deleting one leaves the names around it (its prefix, names holding it) alone.
    expect((await t.api('DELETE', `/api/admin/flags/${encodeURIComponent('colon:in:name')}`)).status).toBe(204);
    expect((await t.api('GET', `/api/admin/flags/${encodeURIComponent('colon:in:name')}`)).status).toBe(404);
    expect((await t.api('GET', `/api/admin/flags/${encodeURIComponent('outcome:production:x:0')}`)).status).toBe(200);
  });

  it('survive a restart of the controller on the same store', async () => {
    await t.stop();
    t = await startTestController({ embedded: store === 'embedded', dataDir, prefix: t.prefix });
    const listed = (await t.api('GET', '/api/admin/flags')).body.flags.map((f: { name: string }) => f.name);
    expect(listed).toEqual(expect.arrayContaining(ODD_NAMES.filter((n) => n !== 'colon:in:name')));
    expect((await t.api('GET', `/api/admin/flags/${encodeURIComponent(UTF8)}`)).body.name).toBe(UTF8);
  });
});

describe('flag files stay strict', () => {
  const problems = (text: string) => {
    try {
      parseFlagFile('flags/f.yaml', text);
    } catch (err) {
      return (err as FileError).problems.map((p) => `${p.fieldPath}: ${p.problem}`);
    }
    return [];
  };

  it('refuse an unknown operator in a segment, a regular expression that does not compile, and a Unicode name, each by its path', () => {
    const text = `
segments:
  - { id: 5, constraints: [{ contextName: tier, operator: IN_FUTURE_SET, values: [gold] }] }
flags:
  - name: checkout
    environments:
      production:
        enabled: true
        strategies: [{ name: default, constraints: [{ contextName: email, operator: REGEX, value: "(unclosed" }] }]
  - name: "${UTF8}"
`;
    const found = problems(text);
    expect(found).toHaveLength(3);
    expect(found[0]).toMatch(/^segments\[0\]\.constraints\[0\]\.operator: "IN_FUTURE_SET" is not one of IN, /);
    expect(found.slice(1)).toEqual([
      'flags[0].environments.production.strategies[0].constraints[0].value: not a valid regular expression',
      `flags[1].name: ${AUTHORED_NAME}`,
    ]);
  });

  it('refuse a json payload that does not parse, in a strategy variant and an environment variant, each by its path', () => {
    const text = `
flags:
  - name: checkout
    environments:
      production:
        enabled: true
        strategies: [{ name: default, variants: [{ name: a, weight: 1000, payload: { type: json, value: "{oops" } }] }]
        variants: [{ name: b, weight: 1000, payload: { type: json, value: "" } }, { name: c, weight: 0, payload: { type: string, value: "{oops" } }]
`;
    expect(problems(text)).toEqual([
      'flags[0].environments.production.strategies[0].variants[0].payload.value: not valid JSON (a payload of type "json" must parse as JSON)',
      'flags[0].environments.production.variants[0].payload.value: not valid JSON (a payload of type "json" must parse as JSON)',
    ]);
  });
});
