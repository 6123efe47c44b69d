import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptyDir, startTestController, type TestController } from '../support/controller.js';
import { expectStatus, shortPolicy } from '../rollouts/scenario-helpers.js';
import { CHROMIUM, launchChromium, openPage, screenshot, signIn } from './browser-helpers.js';

/**
 * The rollouts page in real headless Chromium with orchestration on it: a pipeline run on one
 * line (each environment with its stage's mark, what the next one waits for), a scheduled rollout
 * with its start time, and a release named with its flags.
 */
describe('orchestration on the rollouts page in Chromium', { timeout: 60_000 }, () => {
  let t: TestController;
  let browser: Browser;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run bash scripts/ensure-tool.sh chromium chromium`);
    t = await startTestController({ env: { POLICIES_DIR: emptyDir() } });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.stop();
  });

  it('shows a pipeline run on one line, a scheduled rollout with its start, and a release with its flags', async () => {
    const both = { environments: { staging: { enabled: true, strategies: [] }, production: { enabled: true, strategies: [] } } };
    for (const flag of ['ui-pipe', 'ui-later', 'ui-mod-a', 'ui-mod-b']) await expectStatus(t, 201, 'PUT', `/api/admin/flags/${flag}`, both);
    await expectStatus(t, 201, 'PUT', '/api/admin/policies/short', shortPolicy('short'));
    await expectStatus(t, 201, 'PUT', '/api/admin/pipelines/to-prod', {
      name: 'to-prod',
      stages: [
        { environment: 'staging', policy: 'short' },
        { environment: 'production', policy: 'short' },
      ],
    });
    const run = await expectStatus(t, 201, 'POST', '/api/admin/pipelines/to-prod/runs', { flag: 'ui-pipe' });
    const startAt = new Date(Date.now() + 2 * 3_600_000).toISOString();
    await expectStatus(t, 201, 'POST', '/api/admin/rollouts', { flag: 'ui-later', environment: 'production', policy: 'short', startAt });
    await expectStatus(t, 201, 'POST', '/api/admin/releases', {
      name: 'ui-module',
      environment: 'production',
      policy: 'short',
      flags: ['ui-mod-a', 'ui-mod-b'],
    });

    const { page, problems } = await openPage(browser, t.url);
    await signIn(page, t.adminToken);
    const line = page.locator(`li.pipeline-run[data-run="${run.id}"]`);
    await line.waitFor();
    const text = (await line.textContent()) ?? '';
    expect(text).toContain('to-prod: ui-pipe');
    expect(text).toMatch(/● staging active → ○ production waiting/);
    await expect
      .poll(async () => page.locator(`li.pipeline-run[data-run="${run.id}"] a`).first().getAttribute('href'))
      .toBe(`#/rollouts/${run.stages[0].rolloutId}`);

    const scheduled = page.locator('li.rollout-card[data-state="scheduled"]');
    await scheduled.waitFor();
    expect(await scheduled.textContent()).toContain('scheduled start:');
    const release = page.locator('li.rollout-card', { hasText: 'release ui-module' });
    await release.waitFor();
    expect(await release.textContent()).toContain('2 flags: ui-mod-a, ui-mod-b');
    await screenshot(page, 'rollouts-orchestration');
    expect(problems).toEqual([]);
  });
});
