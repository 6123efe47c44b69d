import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestController, type TestController } from '../support/controller.js';

describe('OpenAPI document', () => {
  let t: TestController;
  beforeAll(async () => (t = await startTestController()));
  afterAll(() => t.stop());

  it('documents every route of the contract, with request schemas from the validators', async () => {
    const doc = await (await fetch(`${t.url}/api/openapi.json`)).json();
    expect(doc.openapi).toBe('3.1.0');
    const expected: Array<[string, string]> = [
      ['get', '/api/client/features'],
      ['get', '/api/client/features/{name}'],
      ['get', '/api/client/delta'],
      ['get', '/api/client/streaming'],
      ['post', '/api/client/register'],
      ['post', '/api/client/metrics'],
      ['post', '/api/admin/environments/{env}/import'],
      ['get', '/api/admin/flags'],
      ['get', '/api/admin/flags/{name}'],
      ['put', '/api/admin/flags/{name}'],
      ['delete', '/api/admin/flags/{name}'],
      ['post', '/api/admin/flags/{name}/environments/{env}/kill'],
      ['post', '/api/admin/flags/{name}/environments/{env}/restore'],
      ['get', '/api/admin/audit'],
      ['get', '/api/admin/audit/verify'],
      ['post', '/api/admin/tokens'],
      ['get', '/api/admin/tokens'],
      ['delete', '/api/admin/tokens/{id}'],
      ['post', '/api/metrics/outcomes'],
      ['get', '/api/admin/policies'],
      ['get', '/api/admin/policies/{name}'],
      ['put', '/api/admin/policies/{name}'],
      ['post', '/api/admin/rollouts'],
      ['get', '/api/admin/rollouts'],
      ['get', '/api/admin/rollouts/{id}'],
      ...(['approve', 'reject', 'pause', 'resume', 'abort'] as const).map((c): [string, string] => ['post', `/api/admin/rollouts/{id}/${c}`]),
      ['post', '/api/alerts/alertmanager'],
      ['post', '/api/alerts/generic'],
      ['get', '/api/admin/alert-routes'],
      ['get', '/api/admin/alert-routes/{name}'],
      ['put', '/api/admin/alert-routes/{name}'],
      ['delete', '/api/admin/alert-routes/{name}'],
      ['get', '/healthz'],
      ['get', '/readyz'],
    ];
    for (const [method, path] of expected) expect(doc.paths[path]?.[method], `${method} ${path}`).toBeDefined();

    // Alert routes take an alert token (bound to environments), and say what they answer.
    const alertmanager = doc.paths['/api/alerts/alertmanager'].post;
    expect(alertmanager.security).toEqual([{ alertToken: [] }]);
    expect(doc.components.securitySchemes.alertToken).toBeDefined();
    expect(Object.keys(alertmanager.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '403', '413']));
    expect(doc.paths['/api/admin/alert-routes/{name}'].put['x-required-permission']).toBe('alert-routes:write');

    const put = doc.paths['/api/admin/flags/{name}'].put;
    expect(put['x-required-permission']).toBe('flags:write');
    expect(put.parameters).toEqual([
      expect.objectContaining({ name: 'name', in: 'path', required: true }),
      expect.objectContaining({ name: 'force', in: 'query', required: false }),
    ]);
    expect(put.responses['409'].description).toContain('rollout_owns_percentage');
    const resolve = (schema: any) => (schema.$ref ? doc.components.schemas[schema.$ref.split('/').pop()] : schema);
    const flagBody = resolve(put.requestBody.content['application/json'].schema);
    expect(JSON.stringify(flagBody)).toContain('IN_CIDR');
    const importBody = resolve(doc.paths['/api/admin/environments/{env}/import'].post.requestBody.content['application/json'].schema);
    expect(importBody.required).toContain('features');
    // Every $ref points at a schema the document defines.
    for (const ref of JSON.stringify(doc).match(/"\$ref":"[^"]+"/g) ?? []) {
      const name = ref.split('/').pop()!.replace('"', '');
      expect(doc.components.schemas[name], ref).toBeDefined();
    }
  });

  it('answers unknown routes with a JSON 404', async () => {
    const res = await fetch(`${t.url}/api/nope`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: 'not_found' });
  });
});
