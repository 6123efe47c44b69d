import path from 'node:path';
import { expect } from 'vitest';
import type { TestController } from '../support/controller.js';
import { adminPerson, ENV, expectStatus, shortPolicy, type AdminPerson } from '../rollouts/scenario-helpers.js';

/** The repository's own flag files: they bring segments and file-source markers into the store. */
export const REPO_FLAGS_DIR = path.resolve('flags');

export interface Populated {
  clientToken: string;
  frontendToken: string;
  editor: AdminPerson;
  releaseManager: AdminPerson;
  rolloutId: string;
  webhookSecret: string;
}

/**
 * Gives a controller one of everything a backup carries: flags from files and from the API,
 * segments, a policy, tokens of each kind, a killed flag, a webhook with its secret, and a rollout
 * with history (approved once, then paused so nothing moves while the test compares).
 */
export async function populate(t: TestController): Promise<Populated> {
  const editor = await adminPerson(t, 'editor', 'Erin Editor');
  const releaseManager = await adminPerson(t, 'release-manager', 'Rami Release');
  const clientToken = await t.token({ kind: 'client', environment: ENV });
  const frontendToken = await t.token({ kind: 'frontend', environment: ENV });
  await expectStatus(
    t,
    201,
    'PUT',
    '/api/admin/policies/backup-policy',
    shortPolicy('backup-policy', { stepDefaults: { minDuration: '1h', minSamples: 10, approval: { required: 1, roles: ['release-manager'] } } }),
  );
  for (const name of ['kept-a', 'kept-b', 'ramped']) {
    await expectStatus(
      t,
      201,
      'PUT',
      `/api/admin/flags/${name}`,
      {
        environments: { [ENV]: { enabled: name !== 'ramped', strategies: name === 'ramped' ? [] : [{ name: 'default' }] } },
      },
      editor.secret,
    );
  }
  await expectStatus(t, 200, 'POST', `/api/admin/flags/kept-b/environments/${ENV}/kill`, { reason: 'backup test kill' }, releaseManager.secret);
  const webhook = await expectStatus(t, 201, 'PUT', '/api/admin/webhooks/release-room', {
    url: 'https://hooks.example.com/release-room',
    format: 'json',
    events: ['rollout.completed'],
  });
  const rollout = await expectStatus(t, 201, 'POST', '/api/admin/rollouts', { flag: 'ramped', environment: ENV, policy: 'backup-policy' }, editor.secret);
  await expectStatus(t, 200, 'POST', `/api/admin/rollouts/${rollout.id}/pause`, { comment: 'hold for the backup' }, releaseManager.secret);
  return { clientToken, frontendToken, editor, releaseManager, rolloutId: rollout.id, webhookSecret: webhook.secret };
}

/** GET /api/admin/backup as the bootstrap admin, parsed; also returns the raw text and headers. */
export async function fetchBackup(t: TestController, token = t.adminToken): Promise<{ status: number; backup: any; text: string; headers: Headers }> {
  const res = await fetch(`${t.url}/api/admin/backup`, { headers: { Authorization: token } });
  const text = await res.text();
  return { status: res.status, backup: res.status === 200 ? JSON.parse(text) : undefined, text, headers: res.headers };
}

export async function postRestore(t: TestController, body: string | unknown, prefix?: string, token = t.adminToken) {
  const res = await fetch(`${t.url}/api/admin/restore${prefix ? `?prefix=${encodeURIComponent(prefix)}` : ''}`, {
    method: 'POST',
    headers: { Authorization: token, 'Content-Type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/**
 * The SDK payload as a stock client sees it, without `meta.revisionId`: that is the store's
 * change-feed position, which a restore does not carry over (the restored store numbers its own
 * changes), so it and the ETag that covers it differ by design.
 */
export async function sdkPayload(t: TestController, clientToken: string): Promise<unknown> {
  const res = await fetch(`${t.url}/api/client/features`, { headers: { Authorization: clientToken, 'Unleash-Client-Spec': '5.0.0' } });
  expect(res.status).toBe(200);
  const { meta, ...payload } = (await res.json()) as { meta: { revisionId: number } };
  expect(meta.revisionId).toBeGreaterThan(0);
  return payload;
}

/** What an operator compares before and after a restore, through the API only. */
export async function observable(t: TestController, p: Populated) {
  const rollout = (await t.api('GET', `/api/admin/rollouts/${p.rolloutId}`, undefined, p.editor.secret)).body;
  const frontend = await fetch(`${t.url}/api/frontend?userId=u1`, { headers: { Authorization: p.frontendToken } });
  return {
    sdk: await sdkPayload(t, p.clientToken),
    frontend: await frontend.json(),
    flags: (await t.api('GET', '/api/admin/flags', undefined, p.editor.secret)).body,
    policies: (await t.api('GET', '/api/admin/policies', undefined, p.editor.secret)).body,
    rollout: {
      id: rollout.id,
      state: rollout.state,
      stepIndex: rollout.stepIndex,
      percentage: rollout.percentage,
      approvals: rollout.approvals,
      history: rollout.history,
    },
    webhooks: (await t.api('GET', '/api/admin/webhooks', undefined, p.editor.secret)).body,
    tokens: (await t.api('GET', '/api/admin/tokens')).body.tokens?.filter((x: { id: string }) => x.id !== 'bootstrap-admin'),
  };
}
