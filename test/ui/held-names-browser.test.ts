import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestController, type TestController } from '../support/controller.js';
import { clientGet } from '../sdk/sdk-helpers.js';
import { CHROMIUM, confirmDialog, launchChromium, openPage, signIn } from './browser-helpers.js';

/**
 * Issue 17: an import keeps flag names as Unleash had them, markup and any Unicode included. The
 * dashboard (real headless Chromium) shows each as text, never as markup, and its kill switch
 * reaches the right flag through a percent-encoded route.
 */

const MARKUP = '<img src=x onerror="window.__injected=1">';
const UTF8 = 'Feature.UTF-8.😊_φriend_你好_🌍';
const AMPERSANDS = 'a&amp;b "quoted" \'single\'';
const NAMES = [MARKUP, UTF8, AMPERSANDS];

describe('held flag names on the dashboard', { timeout: 60_000 }, () => {
  let t: TestController;
  let browser: Browser;
  let client: string;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run bash scripts/ensure-tool.sh chromium chromium`);
    t = await startTestController();
    client = await t.token({ kind: 'client', environment: 'production' });
    const features = NAMES.map((name) => ({ name, description: `<b>${name}</b>`, enabled: true, strategies: [{ name: 'default' }], variants: [] }));
    expect((await t.api('POST', '/api/admin/environments/production/import', { features })).status).toBe(200);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await t?.stop();
  });

  it('shows every name as text, runs none of it, and kills the flag it names', async () => {
    const { page, problems } = await openPage(browser, t.url);
    await signIn(page, t.adminToken);
    await page.getByRole('link', { name: 'Flags' }).click();
    await page.locator('tr[data-flag]').first().waitFor();
    const rows = page.locator('tr[data-flag]');
    const shown = await rows.evaluateAll((trs) => trs.map((tr) => ({ flag: tr.getAttribute('data-flag'), header: tr.querySelector('th, td')?.textContent })));
    for (const name of NAMES) {
      const row = shown.find((r) => r.flag === name);
      expect(row, name).toBeDefined();
      expect(row!.header, name).toBe(`${name}<b>${name}</b>`);
    }
    // Nothing of a name or a description became an element, and no handler ran.
    expect(await page.locator('table img, table b').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __injected?: number }).__injected)).toBeUndefined();

    const index = shown.findIndex((r) => r.flag === MARKUP);
    await rows.nth(index).getByRole('button', { name: 'Kill' }).click();
    await confirmDialog(page, 'Kill the flag', 'a name full of markup');
    await expect.poll(() => rows.nth(index).getAttribute('data-served')).toBe('killed');
    expect((await clientGet(t, client, `/api/client/features/${encodeURIComponent(MARKUP)}`)).body.enabled).toBe(false);
    expect((await clientGet(t, client, `/api/client/features/${encodeURIComponent(UTF8)}`)).body.enabled).toBe(true);

    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.locator('[data-chain]').waitFor();
    await expect.poll(async () => (await page.locator('table.audit').textContent()) ?? '').toContain(MARKUP);
    expect(await page.locator('table.audit img').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __injected?: number }).__injected)).toBeUndefined();
    expect(problems).toEqual([]);
  });
});
