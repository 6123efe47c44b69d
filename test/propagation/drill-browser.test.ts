import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestController, type TestController } from '../support/controller.js';
import { CHROMIUM, confirmDialog, launchChromium, openPage, screenshot, signIn, unnamedControls } from '../ui/browser-helpers.js';
import { eventually, startNamedSdk, type NamedSdk } from './drill-sdks.js';

/** The flag page in Chromium: whether the state arrived, and the drill button for release managers. */

describe('the flag page: propagation and the rollback drill', { timeout: 60_000 }, () => {
  let t: TestController;
  let browser: Browser;
  let releaseManager: string;
  let viewer: string;
  const sdks: NamedSdk[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run bash scripts/ensure-tool.sh chromium chromium`);
    t = await startTestController();
    releaseManager = await t.token({ kind: 'admin', role: 'release-manager' });
    viewer = await t.token({ kind: 'admin', role: 'viewer' });
    const on = { enabled: true, strategies: [{ name: 'default' }] };
    expect((await t.api('PUT', '/api/admin/flags/new-cart', { description: 'the new cart', environments: { staging: on, production: on } })).status).toBe(201);
    for (const environment of ['staging', 'production']) {
      const secret = await t.token({ kind: 'client', environment });
      sdks.push(await startNamedSdk(t, secret, { appName: 'cart', instanceId: `cart-${environment}`, mode: 'streaming', refreshInterval: 60_000 }));
    }
    await eventually(
      async () => (await t.api('GET', '/api/admin/flags/new-cart/environments/staging/propagation')).body.instances,
      (n) => n === 1,
      'the SDK to be seen',
    );
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    for (const s of sdks) s.sdk.destroy();
    await browser?.close();
    await t?.stop();
  });

  it('a release manager sees every instance holding the state, drills, and sees it verified and restored', async () => {
    const { page, problems } = await openPage(browser, t.url);
    await signIn(page, releaseManager);
    await page.getByRole('link', { name: 'Flags' }).click();
    await page.getByLabel('Environment').selectOption('staging');
    await page.getByRole('link', { name: 'new-cart' }).click();
    const summary = page.locator('.propagation-summary');
    await expect.poll(() => summary.getAttribute('data-confirmed')).toBe('1');
    expect(await summary.textContent()).toContain('1 of 1 SDK instances seen in the last 5 minutes hold its current state');
    expect(await unnamedControls(page)).toEqual([]);
    await screenshot(page, 'drill-01-flag-page');

    await page.getByRole('button', { name: 'Run a rollback drill' }).click();
    expect(await page.getByRole('dialog').textContent()).toContain('at most 60 s');
    await confirmDialog(page, 'Run the drill', 'dashboard drill');
    const result = page.locator('.drill-result');
    await result.waitFor({ timeout: 20_000 });
    expect(await result.getAttribute('data-verified')).toBe('true');
    expect(await result.textContent()).toContain('Verified: all 1 connected SDK instances had the kill within');
    await expect.poll(() => page.locator('[data-served]').first().getAttribute('data-served')).toBe('enabled');
    // Offered again once it is over; and the SDK holds the restored state within a poll or two.
    await page.getByRole('button', { name: 'Run a rollback drill' }).waitFor();
    await expect.poll(() => summary.getAttribute('data-confirmed'), { timeout: 10_000 }).toBe('1');
    await screenshot(page, 'drill-02-verified');

    // On production the dialog says so, and the drill is confirmed by it.
    await page.getByLabel('Environment').selectOption('production');
    await page.getByRole('button', { name: 'Run a rollback drill' }).click();
    expect(await page.getByRole('dialog').textContent()).toContain('production is a production environment');
    await confirmDialog(page, 'Run the drill on production', 'production drill');
    await expect.poll(() => page.locator('.drill-result').getAttribute('data-verified'), { timeout: 20_000 }).toBe('true');
    expect(problems).toEqual([]);
  });

  it('offers a viewer no drill (and the API refuses one anyway)', async () => {
    const { page, problems } = await openPage(browser, t.url);
    await signIn(page, viewer);
    await page.goto(`${t.url}/#/flags/new-cart?env=staging`);
    await expect.poll(() => page.locator('.propagation-summary').getAttribute('data-instances')).toBe('1');
    expect(await page.getByRole('button', { name: 'Run a rollback drill' }).count()).toBe(0);
    expect((await t.api('POST', '/api/admin/flags/new-cart/environments/staging/drill', { reason: 'x' }, viewer)).status).toBe(403);
    expect(problems).toEqual([]);
  });
});
