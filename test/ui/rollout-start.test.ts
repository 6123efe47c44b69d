import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptyDir, startTestController, type TestController } from '../support/controller.js';
import { adminPerson, expectStatus, shortPolicy } from '../rollouts/scenario-helpers.js';
import { CHROMIUM, launchChromium, openPage, screenshot, signIn, unnamedControls } from './browser-helpers.js';

/**
 * Rollouts started from a flag's page in real headless Chromium: the policy is picked and read in
 * plain words (steps, gates, rollback rules, windows) and the start checked as a dry run before starting; the rollout serves 1 %; the
 * flag editor then shows the strategy the rollout owns as read-only, with a link to the rollout.
 * A scheduled start with a not-before time, a release of two flags, and the policies page with YAML.
 */

const ramp = (pct: string) => ({
  environments: {
    production: { enabled: true, strategies: [{ name: 'flexibleRollout', parameters: { rollout: pct, stickiness: 'default', groupId: 'g' } }] },
  },
});

describe('starting rollouts from the dashboard in Chromium', { timeout: 90_000 }, () => {
  let t: TestController;
  let browser: Browser;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run bash scripts/ensure-tool.sh chromium chromium`);
    t = await startTestController({ env: { POLICIES_DIR: emptyDir() } });
    browser = await launchChromium();
    await expectStatus(t, 201, 'PUT', '/api/admin/policies/short', shortPolicy('short'));
    await expectStatus(
      t,
      201,
      'PUT',
      '/api/admin/policies/office-hours',
      shortPolicy('office-hours', {
        windows: {
          allow: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], hours: '09:00-17:00', tz: 'Europe/Oslo' }],
          deny: [{ lastDaysOfMonth: 2, tz: 'Europe/Oslo' }],
        },
      }),
    );
    for (const flag of ['ui-ramp', 'ui-later', 'ui-mod-a', 'ui-mod-b']) await expectStatus(t, 201, 'PUT', `/api/admin/flags/${flag}`, ramp('0'));
  });
  afterAll(async () => {
    await browser?.close();
    await t?.stop();
  });

  it('starts a rollout from the flag page after reading the policy, sees it at 1 %, and the owned strategy is protected until the rollout is aborted', async () => {
    const { page, problems } = await openPage(browser, t.url);
    await signIn(page, t.adminToken);
    await page.goto('/#/flags/ui-ramp');
    await page.getByRole('link', { name: 'Start a rollout' }).click();
    await page.getByRole('heading', { level: 1, name: 'Start a rollout of ui-ramp' }).waitFor();
    await page.getByLabel('Environment').selectOption('production');
    await page.getByLabel('Policy', { exact: true }).selectOption('short');
    const policy = page.locator('section.policy[data-policy="short"]');
    await policy.waitFor();
    expect(await policy.locator('table.policy-steps tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-step')))).toEqual([
      '1',
      '10',
      '50',
      '100',
    ]);
    expect(await policy.locator('ul.policy-gates').textContent()).toContain('error_rate(treatment) ≤ 0.05');
    expect(await policy.locator('ul.policy-rollback').textContent()).toMatch(/error_rate\(treatment\) > [\d.]+ for/);
    expect(await policy.locator('.policy-windows').textContent()).toBe('Always open: no window limits when steps may advance.');
    expect(await unnamedControls(page)).toEqual([]);
    await page.getByLabel('Policy', { exact: true }).selectOption('office-hours');
    await expect
      .poll(() => page.locator('section.policy[data-policy="office-hours"] .policy-windows').textContent())
      .toBe('allow mon, tue, wed, thu, fri 09:00-17:00 Europe/Oslo; deny the last 2 day(s) of each month (Europe/Oslo)');
    await screenshot(page, 'rollout-start-01-policy');
    await page.getByLabel('Policy', { exact: true }).selectOption('short');
    await page.getByLabel('Reason').fill('go live');
    // A dry run first: every check and the pre-flight estimate, nothing written.
    await page.getByRole('button', { name: 'Check before starting' }).click();
    await expect.poll(() => page.locator('#start-check-verdict').textContent()).toBe('The controller would start it: every check passes.');
    expect(await page.locator('#start-check table.preflight tbody tr').count()).toBe(4);
    expect((await expectStatus(t, 200, 'GET', '/api/admin/rollouts')).rollouts).toEqual([]);
    await screenshot(page, 'rollout-start-02-dry-run');
    await page.getByRole('button', { name: 'Start rollout' }).click();

    await page.waitForURL(/#\/rollouts\/.+/);
    const id = decodeURIComponent(new URL(page.url()).hash.replace('#/rollouts/', ''));
    await expect.poll(() => page.locator('[data-served]').first().getAttribute('data-served')).toBe('1');
    await page.getByRole('heading', { name: 'Pre-flight' }).waitFor();
    await screenshot(page, 'rollout-start-03-at-1-percent');
    // In Chinese the pre-flight's sentences are the controller's wording said in Chinese: nothing left in English.
    await page.evaluate(() => localStorage.setItem('rollout-controller.locale', 'zh-CN'));
    await page.reload();
    const preflightZh = page.locator('section[aria-labelledby="preflight-title"]');
    await page.getByRole('heading', { name: '预检' }).waitFor();
    expect(await preflightZh.locator('[lang="en"]').count()).toBe(0);
    const preflightText = (await preflightZh.textContent()) ?? '';
    expect(preflightText).toContain('最近');
    expect(preflightText).toContain('每分钟 0 次请求');
    expect(preflightText).toContain('没有流量：该时间窗口内没有上报该开关的结果');
    expect(preflightText).not.toMatch(/requests|traffic|min\b/);
    await screenshot(page, 'rollout-start-03-pre-flight-zh-CN');
    await page.evaluate(() => localStorage.setItem('rollout-controller.locale', 'en'));
    await page.reload();
    await page.getByRole('heading', { name: 'Pre-flight' }).waitFor();
    const rollout = await expectStatus(t, 200, 'GET', `/api/admin/rollouts/${id}`);
    expect(rollout).toMatchObject({ flag: 'ui-ramp', environment: 'production', policy: 'short', percentage: 1 });

    // The strategy the rollout owns is shown, not edited, with a link to the rollout.
    await page.goto('/#/flag-edit/ui-ramp');
    const owned = page.locator('fieldset.strategy[data-owned="true"]');
    await owned.waitFor();
    expect(await owned.textContent()).toContain(`Rollout ${id} owns this strategy: it serves 1 % now.`);
    expect(await owned.locator('input, select, textarea').count()).toBe(0);
    expect(await owned.getByRole('link', { name: `Open rollout ${id}` }).getAttribute('href')).toBe(`#/rollouts/${encodeURIComponent(id)}`);
    await screenshot(page, 'rollout-start-04-owned-strategy');
    await page.goto('/#/flags/ui-ramp?env=production');
    await expect
      .poll(() => page.locator(`p.owned-strategy[data-owner="${id}"]`).textContent())
      .toBe(`Strategy 1 (1 %) is owned by a rollout: Open rollout ${id}`);

    // An aborted rollout no longer guards its strategy: the editor offers it again.
    await expectStatus(t, 200, 'POST', `/api/admin/rollouts/${id}/abort`, { comment: 'not today' });
    await page.goto('/#/flag-edit/ui-ramp');
    await page.locator('fieldset.strategy[data-owned="false"]').waitFor();
    expect(await page.locator('[data-path="environments.production.strategies[0].parameters.rollout"]').inputValue()).toBe('0');
    expect(problems).toEqual([]);
  });

  it('schedules a rollout with a not-before time, and starts a release of two flags after a refused start names the missing flag', async () => {
    const { page, problems } = await openPage(browser, t.url);
    await signIn(page, t.adminToken);
    await page.goto('/#/rollout-start/ui-later');
    await page.getByLabel('Policy', { exact: true }).selectOption('short');
    const later = new Date(Date.now() + 2 * 3_600_000);
    const local = (d: Date) => new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
    await page.getByLabel('Start at').fill(local(later));
    await page.getByLabel('Not before entering 100 %').fill(local(new Date(later.getTime() + 86_400_000)));
    await page.getByRole('button', { name: 'Start rollout' }).click();
    await page.waitForURL(/#\/rollouts\/.+/);
    const scheduled = (await expectStatus(t, 200, 'GET', '/api/admin/rollouts')).rollouts.find((r: any) => r.flag === 'ui-later');
    expect(scheduled.state).toBe('scheduled');
    expect(Math.abs(Date.parse(scheduled.startAt) - later.getTime())).toBeLessThan(60_000);
    expect(Object.keys(scheduled.notBefore)).toEqual(['100']);

    // A release: the flag with another, under one name; a flag that does not exist is refused.
    await page.goto('/#/rollout-start/ui-mod-a');
    await page.getByLabel('Ramp other flags with it, as one release').check();
    await page.getByLabel('Release name').fill('ui-module');
    await page.getByLabel('Other flags of the release').fill('no-such-flag');
    await page.getByRole('button', { name: 'Check before starting' }).click();
    await expect.poll(() => page.locator('#start-error').textContent()).toMatch(/^It would not start: .*no-such-flag/);
    await page.getByRole('button', { name: 'Start release' }).click();
    await expect.poll(() => page.locator('#start-error').textContent()).toMatch(/^Not started: .*no-such-flag/);
    await page.getByLabel('Other flags of the release').fill('ui-mod-b');
    await page.getByRole('button', { name: 'Start release' }).click();
    await page.waitForURL(/#\/rollouts\/.+/);
    const { releases } = await expectStatus(t, 200, 'GET', '/api/admin/releases');
    expect(releases.map((r: any) => [r.name, r.flags, r.percentage])).toEqual([['ui-module', ['ui-mod-a', 'ui-mod-b'], 1]]);
    expect(problems.filter((p) => !/\b404\b/.test(p))).toEqual([]);
  });

  it('the policies page reads every policy in plain words, with its YAML; a viewer is not offered a start', async () => {
    const viewer = await adminPerson(t, 'viewer', 'pia-viewer');
    const { page, problems } = await openPage(browser, t.url);
    await signIn(page, viewer.secret);
    await page.getByRole('link', { name: 'Policies' }).click();
    await page.getByRole('heading', { level: 1, name: 'Policies' }).waitFor();
    expect(await page.locator('section.policy').evaluateAll((s) => s.map((x) => x.getAttribute('data-policy')))).toEqual(['office-hours', 'short']);
    const office = page.locator('section.policy[data-policy="office-hours"]');
    await office.getByText('YAML of office-hours').click();
    const yaml = (await office.locator('pre.policy-yaml').textContent()) ?? '';
    expect(yaml).toContain('name: office-hours');
    expect(yaml).toMatch(/hours: 09:00-17:00/);
    expect(yaml).toMatch(/maxDuration: 4s/);
    expect(await unnamedControls(page)).toEqual([]);
    await screenshot(page, 'policies-01');
    // In Chinese, the policy's sentences are the catalog's, with the policy's values filled in.
    await page.evaluate(() => localStorage.setItem('rollout-controller.locale', 'zh-CN'));
    await page.reload();
    await page.getByRole('heading', { level: 1, name: '策略' }).waitFor();
    const zh = page.locator('section.policy[data-policy="office-hours"]');
    expect(await zh.locator('.policy-windows').textContent()).toBe('允许 mon, tue, wed, thu, fri 09:00-17:00 Europe/Oslo; 禁止 每月最后 2 天（Europe/Oslo）');
    expect(await zh.locator('ul.policy-rollback').textContent()).toMatch(/^error_rate\(实验组\) > [\d.]+ 持续 \d+ms（每个窗口至少 20 个请求）$/);
    expect(await zh.getByRole('heading', { name: '闸门：只有满足这些条件，每一步才会推进' }).count()).toBe(1);
    await screenshot(page, 'policies-02-zh-CN');
    await page.goto('/#/flags/ui-ramp');
    await page.getByRole('heading', { level: 1, name: 'ui-ramp' }).waitFor();
    expect(await page.getByRole('link', { name: 'Start a rollout' }).count()).toBe(0);
    expect(problems).toEqual([]);
  });
});
