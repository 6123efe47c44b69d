import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PERMISSIONS, roleAllows, type Permission } from '../../src/auth/permissions.js';
import { ROLES } from '../../src/auth/token-model.js';
import { operationsOf, type OpenApiDocument, type Operation } from '../support/api-probe.js';
import { startPeopleWorld, type PeopleWorld, type SignedIn } from './people-world.js';

/** One person per role, by the groups people-world.ts maps. */
const PERSON_OF_ROLE = { admin: 'alice', 'release-manager': 'rita', editor: 'dev', viewer: 'vic' } as const;

/** A concrete path for an operation: every path parameter filled with a harmless name. */
const concrete = (op: Operation) =>
  op.path.replace(/\{(\w+)\}/g, (_m, name: string) => (name === 'env' || name === 'environment' ? 'production' : `probe-${name}`));

/**
 * Issue 18: every admin write the dashboard can make, taken from the OpenAPI document (so a route
 * added later is checked too), is refused for a signed-in person without the session's CSRF token
 * or with a wrong one, and for a person whose role may not do it, even with the right token.
 * Nothing of these requests is written: the store's state is the same before and after.
 */
describe('every admin write, with a session', { timeout: 120_000 }, () => {
  let w: PeopleWorld;
  let writes: Operation[];
  let auditHeadBefore: number;
  const people = {} as Record<keyof typeof PERSON_OF_ROLE, SignedIn>;

  beforeAll(async () => {
    w = await startPeopleWorld();
    for (const [role, login] of Object.entries(PERSON_OF_ROLE)) people[role as keyof typeof PERSON_OF_ROLE] = await w.signIn(login);
    const doc = (await (await fetch(`${w.t.url}/api/openapi.json`)).json()) as OpenApiDocument;
    writes = operationsOf(doc).filter((op) => op.auth === 'admin' && op.method !== 'GET');
    auditHeadBefore = (await w.t.api('GET', '/api/admin/audit/verify')).body.headSeq;
  });
  afterAll(() => w?.stop());

  it('finds the admin writes in the OpenAPI document, each with its permission and the session as a way in', async () => {
    expect(writes.length).toBeGreaterThan(25);
    for (const key of ['PUT /api/admin/flags/{name}', 'POST /api/admin/rollouts/{id}/approve', 'POST /api/admin/tokens', 'DELETE /api/admin/webhooks/{id}'])
      expect(writes.map((op) => op.key)).toContain(key);
    const doc = (await (await fetch(`${w.t.url}/api/openapi.json`)).json()) as any;
    for (const op of writes) {
      expect(Object.keys(PERMISSIONS), op.key).toContain(op.permission);
      expect(doc.paths[op.path][op.method.toLowerCase()].security, op.key).toEqual([{ adminToken: [] }, { sessionCookie: [], csrfToken: [] }]);
    }
  });

  it('refuses each without the CSRF token and with a wrong one, even for an admin', async () => {
    const admin = people.admin;
    const wrong = people.viewer.me.csrfToken;
    const answers: string[] = [];
    for (const op of writes) {
      const missing = await admin.api(op.method, concrete(op), {}, null);
      const invalid = await admin.api(op.method, concrete(op), {}, wrong);
      answers.push(`${op.key}: ${missing.status} ${missing.body?.error}, ${invalid.status} ${invalid.body?.error}`);
    }
    expect(answers).toEqual(writes.map((op) => `${op.key}: 403 csrf_token_missing, 403 csrf_token_invalid`));
  });

  it('refuses each, with the right CSRF token, for every role that may not do it', async () => {
    const expected: string[] = [];
    const answers: string[] = [];
    for (const op of writes) {
      for (const role of ROLES) {
        if (roleAllows(role, op.permission as Permission)) continue;
        const res = await people[role].api(op.method, concrete(op), {});
        expected.push(`${op.key} as ${role}: 403 role ${role} may not ${op.permission}`);
        answers.push(`${op.key} as ${role}: ${res.status} ${res.body?.message}`);
      }
    }
    // Viewers may write nothing at all; every other role is refused something.
    expect(expected.filter((line) => line.includes(' as viewer:'))).toHaveLength(writes.filter((op) => op.permission !== 'read').length);
    expect(answers).toEqual(expected);
  });

  it('wrote nothing', async () => {
    const verdict = (await w.t.api('GET', '/api/admin/audit/verify')).body;
    expect(verdict).toMatchObject({ ok: true, headSeq: auditHeadBefore });
  });
});
