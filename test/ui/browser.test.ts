import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptyDir, startTestController, type TestController } from '../support/controller.js';
import { clientGet } from '../sdk/sdk-helpers.js';
import {
  ENV,
  FAST_ENV,
  HEALTHY,
  adminPerson,
  expectStatus,
  shortPolicy,
  startTraffic,
  stopAllTraffic,
  waitForRollout,
  type AdminPerson,
} from '../rollouts/scenario-helpers.js';
import { CHROMIUM, confirmDialog, launchChromium, openPage, screenshot, signIn, unnamedControls } from './browser-helpers.js';

/**
 * The dashboard in real headless Chromium against a whole controller on the real test Redis, with
 * a rollout moving on short durations and healthy traffic reported through the outcomes API:
 * a release manager signs in, sees the rollout waiting for approval, approves it and watches the
 * stepper move; kills a flag and sees it served disabled; a viewer is offered no approve button
 * and the API refuses the viewer anyway. Screenshots of each page go to test-results/screenshots.
 */

const STEP_TIMEOUT = 15_000;

describe('dashboard in Chromium', { timeout: 60_000 }, () => {
  let t: TestController;
  let browser: Browser;
  let editor: AdminPerson;
  let rita: AdminPerson;
  let viewer: AdminPerson;
  let client: string;
  let rolloutId: string;
  const flag = 'checkout-redesign';

  beforeAll(async () => {
    // `npm test` runs scripts/ensure-tool.sh chromium first; fail loudly rather than skip.
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run bash scripts/ensure-tool.sh chromium chromium`);
    t = await startTestController({ env: { ...FAST_ENV, POLICIES_DIR: emptyDir() } });
    editor = await adminPerson(t, 'editor', 'erin-editor');
    rita = await adminPerson(t, 'release-manager', 'rita-release-manager');
    viewer = await adminPerson(t, 'viewer', 'vera-viewer');
    client = await t.token({ kind: 'client', environment: ENV });
    await expectStatus(t, 201, 'PUT', '/api/admin/policies/short', shortPolicy('short'));
    await expectStatus(
      t,
      201,
      'PUT',
      `/api/admin/flags/${flag}`,
      { description: 'the new checkout', environments: { [ENV]: { enabled: false, strategies: [] } } },
      editor.secret,
    );
    await expectStatus(
      t,
      201,
      'PUT',
      '/api/admin/flags/search-v2',
      { environments: { [ENV]: { enabled: true, strategies: [{ name: 'default' }] }, staging: { enabled: true, strategies: [] } } },
      editor.secret,
    );
    startTraffic(t, client, flag, HEALTHY);
    rolloutId = (await expectStatus(t, 201, 'POST', '/api/admin/rollouts', { flag, environment: ENV, policy: 'short' }, editor.secret)).id;
    browser = await launchChromium();
  });

  afterAll(async () => {
    await stopAllTraffic();
    await browser?.close();
    await t?.stop();
  });

  const open = (options?: Parameters<typeof openPage>[2]) => openPage(browser, t.url, options);

  it('refuses a wrong token at sign-in and says so', async () => {
    const { page, problems } = await open();
    await page.goto('/');
    await page.getByLabel('Admin token').fill('not-a-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.locator('#signin-error').textContent()).toContain('not an admin token');
    await screenshot(page, '01-sign-in');
    // The 401 of the refused token is the only error the page may have logged.
    expect(problems.filter((p) => !p.includes('401'))).toEqual([]);
  });

  it('a release manager sees the rollout waiting for approval, approves it, and the stepper moves to 10%', async () => {
    await waitForRollout(t, rolloutId, (r) => r.state === 'awaiting_approval', 'the first step healthy and awaiting approval', STEP_TIMEOUT);
    const { page, problems } = await open();
    await signIn(page, rita.secret);

    const card = page.locator(`li.rollout-card[data-rollout="${rolloutId}"]`);
    await page.locator(`li.rollout-card[data-rollout="${rolloutId}"][data-state="awaiting_approval"]`).waitFor({ timeout: STEP_TIMEOUT });
    await expect.poll(() => card.locator('.stepper [aria-current="step"]').textContent()).toBe('1%');
    await expect.poll(() => card.locator('.waits').textContent()).toContain('approval for 10%: 0 of 1 (release-manager)');
    await expect.poll(() => card.locator('.gate-marks [role="img"]').count()).toBe(3);
    await screenshot(page, '02-rollouts-awaiting-approval');

    await card.getByRole('link', { name: `${flag} · ${ENV}` }).click();
    await page.getByRole('heading', { level: 1, name: `${flag} · ${ENV}` }).waitFor();
    await page.locator('.chart svg').first().waitFor();
    expect(await page.locator('.chart').count()).toBe(5); // three gates, the percentage, the traffic
    await expect.poll(() => page.locator('table.history tbody tr').count()).toBeGreaterThanOrEqual(2);
    await screenshot(page, '03-rollout-awaiting-approval');
    expect(await unnamedControls(page)).toEqual([]);

    await page.getByRole('button', { name: 'Approve 10%' }).click();
    await confirmDialog(page, 'Approve 10%', 'gates green, go to 10%');
    await expect.poll(() => page.locator('.stepper [aria-current="step"]').textContent(), { timeout: STEP_TIMEOUT }).toBe('10%');
    const after = await expectStatus(t, 200, 'GET', `/api/admin/rollouts/${rolloutId}`, undefined, viewer.secret);
    expect(after.stepIndex).toBeGreaterThanOrEqual(1);
    expect(after.approvals).toEqual([
      expect.objectContaining({ step: 1, comment: 'gates green, go to 10%', by: expect.objectContaining({ name: 'rita-release-manager' }) }),
    ]);
    await expect.poll(() => page.locator('#status').textContent()).toContain('Approved');
    await expect.poll(() => page.locator('table.approvals, ul.approvals').textContent()).toContain('gates green, go to 10%');
    await screenshot(page, '04-rollout-approved-10pct');

    // The go-live report downloads from the page, with the approval in it.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Go-live report (Markdown)' }).click()]);
    expect(download.suggestedFilename()).toMatch(new RegExp(`^go-live-${flag}-${ENV}-.*\\.md$`));
    const report = await readFile((await download.path())!, 'utf8');
    expect(report).toContain(flag);
    expect(report).toContain('rita-release-manager');

    // Back on the list, the card shows the new step too.
    await page.getByRole('link', { name: 'Rollouts', exact: true }).click();
    await expect.poll(() => card.locator('.stepper [aria-current="step"]').textContent()).toBe('10%');
    expect(problems).toEqual([]);
  });

  it('a release manager kills a flag from the flags page and sees it served disabled', async () => {
    const { page, problems } = await open();
    await signIn(page, rita.secret);
    await page.getByRole('link', { name: 'Flags' }).click();
    const row = page.locator(`tr[data-flag="search-v2"][data-env="${ENV}"]`);
    await row.waitFor();
    expect(await row.getAttribute('data-served')).toBe('enabled');
    await screenshot(page, '05-flags');
    expect(await unnamedControls(page)).toEqual([]);

    await row.getByRole('button', { name: 'Kill' }).click();
    // A kill needs a reason: confirming with none keeps the dialog open.
    await page.getByRole('dialog').getByRole('button', { name: 'Kill the flag' }).click();
    await expect.poll(() => page.getByRole('dialog').isVisible()).toBe(true);
    await confirmDialog(page, 'Kill the flag', 'search results empty for EU users');
    await expect.poll(() => row.getAttribute('data-served')).toBe('killed');
    await expect.poll(() => row.textContent()).toContain('search results empty for EU users');
    const served = await clientGet(t, client, '/api/client/features/search-v2');
    expect(served.body.enabled).toBe(false);
    await screenshot(page, '06-flag-killed');

    // Other environments are untouched.
    await page.getByLabel('Environment').selectOption('staging');
    await expect.poll(() => page.locator('tr[data-flag="search-v2"][data-env="staging"]').getAttribute('data-served')).toBe('enabled');
    expect(problems).toEqual([]);
  });

  it('the audit log shows the approval and the kill, filters by action, and shows the chain intact', async () => {
    const { page, problems } = await open();
    await signIn(page, rita.secret);
    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.locator('[data-chain="ok"]').waitFor();
    await page.getByLabel('Action').fill('kill');
    await expect.poll(async () => (await page.locator('table.audit tbody tr td:nth-child(4)').allTextContents()).join(',')).toBe('flag.kill');
    const killRow = page.locator('table.audit tbody tr').first();
    expect(await killRow.textContent()).toContain('rita-release-manager');
    await killRow.getByText('before / after').click();
    await expect.poll(() => killRow.locator('pre').last().textContent()).toContain('search results empty for EU users');
    await screenshot(page, '07-audit-filtered');
    expect(await unnamedControls(page)).toEqual([]);

    await page.getByLabel('Action').fill('');
    await page.getByLabel('Actor').fill('rita');
    // Her approval and her kill, and nobody else's events.
    await expect
      .poll(async () => {
        const who = await page.locator('table.audit tbody tr td:nth-child(3)').allTextContents();
        return who.length >= 2 && who.every((name) => name === 'rita-release-manager');
      })
      .toBe(true);
    expect(await page.locator('table.audit tbody tr td:nth-child(4)').allTextContents()).toEqual(
      expect.arrayContaining(['flag.kill', expect.stringMatching(/approve/)]),
    );
    expect(problems).toEqual([]);
  });

  it('a viewer is offered no approve (or any) button, and the API refuses the viewer anyway', async () => {
    const { page, problems } = await open();
    await signIn(page, viewer.secret);
    await page.goto(`/#/rollouts/${rolloutId}`);
    await page.getByRole('heading', { level: 1, name: `${flag} · ${ENV}` }).waitFor();
    await page.locator('.chart svg').first().waitFor();
    expect(await page.locator('[data-action]').count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Approve' }).count()).toBe(0);
    expect(await page.getByText('Nothing your role can do in this state.').count()).toBe(1);
    await screenshot(page, '08-rollout-as-viewer');

    await page.getByRole('link', { name: 'Flags' }).click();
    await page.locator('table.flags tbody tr').first().waitFor();
    expect(await page.getByRole('button', { name: /Kill|Restore/ }).count()).toBe(0);

    for (const command of ['approve', 'pause', 'abort']) {
      const res = await t.api('POST', `/api/admin/rollouts/${rolloutId}/${command}`, {}, viewer.secret);
      expect(res.status, command).toBe(403);
    }
    expect((await t.api('POST', `/api/admin/flags/${flag}/environments/${ENV}/kill`, { reason: 'viewer' }, viewer.secret)).status).toBe(403);
    expect(problems).toEqual([]);
  });

  it('an admin whose role the policy does not name sees approve disabled, with the reason', async () => {
    const { page, problems } = await open();
    await signIn(page, t.adminToken);
    await page.goto(`/#/rollouts/${rolloutId}`);
    const approve = page.locator('[data-action="approve"]');
    await approve.waitFor();
    expect(await approve.isDisabled()).toBe(true);
    expect(await page.locator('#approve-blocked').textContent()).toBe('Approving this step needs the role release-manager.');
    // What the role may do is still offered.
    expect(await page.locator('[data-action="pause"]').isEnabled()).toBe(true);
    expect(problems).toEqual([]);
  });

  it('works at phone width (here in dark mode): no sideways scrolling, everything reachable', async () => {
    const { page, problems } = await open({ viewport: { width: 390, height: 844 }, colorScheme: 'dark' });
    await signIn(page, rita.secret);
    await page.locator(`[data-rollout="${rolloutId}"]`).waitFor();
    const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(await overflow()).toBeLessThanOrEqual(0);
    await screenshot(page, '09-phone-rollouts');
    await page.goto(`/#/rollouts/${rolloutId}`);
    await page.locator('.chart svg').first().waitFor();
    expect(await overflow()).toBeLessThanOrEqual(0);
    const chartWidth = await page
      .locator('.chart svg')
      .first()
      .evaluate((svg) => svg.getBoundingClientRect().width);
    expect(chartWidth).toBeLessThanOrEqual(390);
    expect(await page.locator('[data-action]').first().isVisible()).toBe(true);
    await screenshot(page, '10-phone-rollout');
    expect(problems).toEqual([]);
  });
});
