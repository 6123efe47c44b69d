import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptyDir, startTestController, type TestController } from '../support/controller.js';
import { adminPerson, expectStatus, type AdminPerson } from '../rollouts/scenario-helpers.js';
import { FAST_WEBHOOKS } from '../notifications/sample-events.js';
import { dingtalkReceiver, type VendorReceiver } from '../notifications/vendor-receivers.js';
import { CHROMIUM, confirmDialog, launchChromium, openPage, screenshot, signIn, unnamedControls } from './browser-helpers.js';

/**
 * The webhooks page in real headless Chromium: an admin creates a DingTalk robot's webhook, sends a
 * test (delivered to a local stand-in that checks DingTalk's signature) and reads the outcome and the
 * deliveries; changes its filters without retyping the URL or the secret; sees a generated secret
 * once; deletes a webhook. A viewer sees the list and the deliveries, and no button that changes anything.
 */

const TOKEN = 'ding-token-0123456789abcdef';
const SECRET = 'SEC7f3a9c2b1d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8';

describe('webhooks page in Chromium', { timeout: 60_000 }, () => {
  let t: TestController;
  let browser: Browser;
  let ding: VendorReceiver;
  let viewer: AdminPerson;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run bash scripts/ensure-tool.sh chromium chromium`);
    ding = await dingtalkReceiver(TOKEN, SECRET);
    t = await startTestController({ env: { ...FAST_WEBHOOKS, POLICIES_DIR: emptyDir() } });
    viewer = await adminPerson(t, 'viewer', 'vera-viewer');
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.stop();
    await ding?.close();
  });

  it('an admin creates a DingTalk webhook, sends a test and sees it delivered, changes its filters, and deletes another', async () => {
    const { page, problems } = await openPage(browser, t.url);
    await signIn(page, t.adminToken);
    await page.getByRole('link', { name: 'Webhooks' }).click();
    await page.getByRole('heading', { level: 1, name: 'Webhooks' }).waitFor();

    await page.getByRole('button', { name: 'New webhook' }).click();
    await page.getByLabel('Webhook id').fill('team-ding');
    await page.getByLabel('Format').selectOption('dingtalk');
    await page.getByLabel('URL').fill(ding.url);
    await page.getByLabel('Signing secret').fill(SECRET);
    await page.getByLabel('Environments').fill('production');
    await page.getByLabel('flag.killed').check();
    expect(await page.getByLabel('Recipients').isVisible()).toBe(false);
    expect(await unnamedControls(page)).toEqual([]);
    await screenshot(page, 'webhooks-01-new');
    await page.getByRole('button', { name: 'Save webhook' }).click();

    const row = page.locator('tr[data-webhook="team-ding"]');
    await row.waitFor();
    const shown = await row.textContent();
    expect(shown).toContain('DingTalk robot');
    expect(shown).toContain(`${new URL(ding.url).origin}/robot/send?access_token=ding…`);
    expect(shown).not.toContain(TOKEN);
    expect(shown).toContain('environments: production');
    expect(shown).toContain('events: flag.killed');

    await row.getByRole('button', { name: 'Send test to team-ding' }).click();
    await expect.poll(() => page.locator('#test-result').textContent()).toMatch(/^Test to team-ding: delivered \(status 200, \d+ ms\)\.$/);
    expect(ding.accepted.at(-1).markdown.title).toBe('Test message: webhook team-ding reaches this channel');
    const delivery = page.locator('table.deliveries tbody tr').first();
    await expect.poll(() => delivery.getAttribute('data-outcome')).toBe('delivered');
    expect(await delivery.textContent()).toContain('webhook.test');
    await screenshot(page, 'webhooks-02-tested');

    // Changing the filters keeps the URL and the robot's secret without retyping them.
    await row.getByRole('button', { name: 'Change team-ding' }).click();
    expect(await page.getByLabel('Webhook id').getAttribute('readonly')).not.toBeNull();
    expect(await page.getByLabel('URL').getAttribute('placeholder')).toBe(`unchanged: ${new URL(ding.url).origin}/robot/send?access_token=ding…`);
    await page.getByLabel('Environments').fill('production, staging');
    await page.getByRole('button', { name: 'Save webhook' }).click();
    await expect.poll(() => row.textContent()).toContain('environments: production, staging');
    await row.getByRole('button', { name: 'Send test to team-ding' }).click();
    await expect.poll(() => page.locator('#test-result').textContent()).toMatch(/delivered \(status 200/);

    // A JSON webhook without a secret: the generated one is shown once.
    await page.getByRole('button', { name: 'New webhook' }).click();
    await page.getByLabel('Webhook id').fill('scratch');
    await page.getByLabel('URL').fill('http://127.0.0.1:9/hook');
    await page.getByRole('button', { name: 'Save webhook' }).click();
    await expect.poll(() => page.locator('#secret-once').textContent()).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    await page.getByRole('button', { name: 'I have kept it' }).click();
    await page.locator('tr[data-webhook="scratch"]').getByRole('button', { name: 'Delete scratch' }).click();
    await confirmDialog(page, 'Delete the webhook');
    await page.locator('tr[data-webhook="scratch"]').waitFor({ state: 'detached' });
    await expectStatus(t, 404, 'GET', '/api/admin/webhooks/scratch');

    // A refusal names the field, in the form.
    await page.getByRole('button', { name: 'New webhook' }).click();
    await page.getByLabel('Webhook id').fill('no-secret');
    await page.getByLabel('Format').selectOption('feishu');
    await page.getByLabel('URL').fill('http://127.0.0.1:9/hook');
    await page.getByRole('button', { name: 'Save webhook' }).click();
    await expect.poll(() => page.locator('#wh-error').textContent()).toContain('secret: required with format feishu');
    expect(problems.filter((p) => !p.includes('400'))).toEqual([]);
  });

  it('a viewer sees the webhooks and their deliveries, and no button that changes or tests them', async () => {
    const { page, problems } = await openPage(browser, t.url);
    await signIn(page, viewer.secret);
    await page.goto('/#/webhooks');
    const row = page.locator('tr[data-webhook="team-ding"]');
    await row.waitFor();
    expect(await page.getByRole('button', { name: 'New webhook' }).count()).toBe(0);
    expect(await row.getByRole('button').allTextContents()).toEqual(['Deliveries']);
    // A viewer gets the origin only from the API.
    expect(await row.textContent()).toContain(`${new URL(ding.url).origin}/…`);
    await row.getByRole('button', { name: 'Deliveries of team-ding' }).click();
    await expect.poll(() => page.locator('table.deliveries tbody tr').count()).toBe(2);
    expect(await unnamedControls(page)).toEqual([]);
    expect(problems).toEqual([]);
  });
});
