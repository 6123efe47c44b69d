import { existsSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptyDir, startTestController, type TestController } from '../support/controller.js';
import { ENV, FAST_ENV, HEALTHY, adminPerson, expectStatus, shortPolicy, startTraffic, stopAllTraffic, waitForRollout } from '../rollouts/scenario-helpers.js';
import { CHROMIUM, launchChromium, screenshot } from './browser-helpers.js';
import { seriousAxeViolations, sidewaysOverflow, untranslated } from './page-checks.js';

/**
 * Every page of the dashboard in English and in Simplified Chinese, in real headless Chromium
 * against a whole controller: in Chinese no UI text is left in English (data and the controller's
 * own English are marked as such), axe-core finds no serious or critical violation in either
 * language, nothing scrolls sideways at phone width (390 px), gate values carry their unit, the
 * language follows the browser and can be switched and back, and the main actions are reachable
 * with the keyboard. Screenshots of every page in both languages go to test-results/screenshots.
 */

const LOCALES = ['en', 'zh-CN'] as const;
/** Values of this test's data shown as they are: environment, policy, strategy and role names. */
const DATA_WORDS = [
  ENV,
  'bootstrap',
  'staging',
  'development',
  'test',
  'short',
  'default',
  'admin',
  'editor',
  'viewer',
  'https',
  'hooks',
  'example',
  'com',
  'rollouts',
];
const WITH_UNIT = /^(–|no data|无数据|-?[\d,]+(\.\d+)?(%| ms| requests?| evaluations?| 次请求| 次评估))$/;

describe('the dashboard in both languages', { timeout: 120_000 }, () => {
  let t: TestController;
  let browser: Browser;
  let rolloutId: string;
  const flag = 'checkout-redesign';

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run bash scripts/ensure-tool.sh chromium chromium`);
    t = await startTestController({ env: { ...FAST_ENV, POLICIES_DIR: emptyDir() } });
    const editor = await adminPerson(t, 'editor', 'erin-editor');
    const client = await t.token({ kind: 'client', environment: ENV });
    await expectStatus(t, 201, 'PUT', '/api/admin/policies/short', shortPolicy('short'));
    const envs = { [ENV]: { enabled: false, strategies: [] }, staging: { enabled: true, strategies: [{ name: 'default' }] } };
    await expectStatus(t, 201, 'PUT', `/api/admin/flags/${flag}`, { description: 'the new checkout', environments: envs }, editor.secret);
    await expectStatus(t, 201, 'PUT', '/api/admin/webhooks/team-hook', {
      format: 'slack',
      url: 'https://hooks.example.com/rollouts',
      events: ['flag.killed'],
      language: 'zh-CN',
    });
    startTraffic(t, client, flag, HEALTHY);
    rolloutId = (await expectStatus(t, 201, 'POST', '/api/admin/rollouts', { flag, environment: ENV, policy: 'short' }, editor.secret)).id;
    await waitForRollout(t, rolloutId, (r) => r.state === 'awaiting_approval', 'the first step healthy and awaiting approval', 20_000);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await stopAllTraffic();
    await browser?.close();
    await t?.stop();
  });

  /** A browser whose language is `locale`, signed in as the controller's admin through the sign-in form. */
  async function signedIn(locale: string, viewport = { width: 1280, height: 900 }): Promise<{ page: Page; problems: string[]; close(): Promise<void> }> {
    const context = await browser.newContext({ locale, viewport, baseURL: t.url });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error') problems.push(`console: ${msg.text()}`);
    });
    await page.goto('/');
    await page.locator('#token').fill(t.adminToken);
    await page.locator('form.signin button[type="submit"]').click();
    await page.locator('#who [data-role]').waitFor();
    return { page, problems, close: () => context.close() };
  }

  /** The pages to walk: every link of the top bar (pages other helpers add included), a rollout, a flag, its editor, a new flag and a rollout's start. */
  async function pagesOf(page: Page): Promise<Array<{ name: string; hash: string }>> {
    const nav = await page.locator('#nav a[href^="#/"]').evaluateAll((links) => links.map((a) => a.getAttribute('href')!));
    return [
      ...nav.map((hash) => ({ name: hash.slice(2), hash })),
      { name: 'rollout', hash: `#/rollouts/${encodeURIComponent(rolloutId)}` },
      { name: 'flag', hash: `#/flags/${flag}?env=${ENV}` },
      { name: 'flag-edit', hash: `#/flag-edit/${flag}` },
      { name: 'flag-new', hash: '#/flag-edit' },
      { name: 'rollout-start', hash: `#/rollout-start/${flag}` },
    ];
  }

  /** Opens `hash` and waits until its live data has been drawn. */
  async function show(page: Page, hash: string): Promise<void> {
    await page.goto(`/${hash}`);
    await page.locator('main h1').first().waitFor();
    await page.waitForLoadState('networkidle').catch(() => {});
    await expect.poll(() => page.locator('main').innerText()).not.toMatch(/Loading…|加载中…|Verifying|正在校验/);
  }

  for (const locale of LOCALES) {
    it(`${locale}: every page follows the browser's language, names everything for screen readers, and shows units`, async () => {
      const { page, problems, close } = await signedIn(locale);
      expect(await page.evaluate(() => document.documentElement.lang)).toBe(locale);
      expect(await page.locator('#language').inputValue()).toBe(locale);
      const pages = await pagesOf(page);
      expect(pages.map((p) => p.name)).toEqual(expect.arrayContaining(['rollouts', 'flags', 'audit', 'webhooks', 'tokens', 'rollout', 'flag']));
      const leftInEnglish: string[] = [];
      const axe: string[] = [];
      for (const { name, hash } of pages) {
        await show(page, hash);
        if (locale === 'zh-CN') leftInEnglish.push(...(await untranslated(page, DATA_WORDS)).map((s) => `${name}: ${s}`));
        axe.push(...(await seriousAxeViolations(page)).map((s) => `${name}: ${s}`));
        await screenshot(page, `lang-${locale}-${name}`);
      }
      // The rollout page's gate values, thresholds and samples: each with its unit, in this language.
      await show(page, `#/rollouts/${encodeURIComponent(rolloutId)}`);
      const cells = await page
        .locator('table.gates tbody tr')
        .evaluateAll((rows) => rows.flatMap((row) => [...row.querySelectorAll('td')].slice(0, 3).map((td) => (td.textContent ?? '').trim())));
      expect(cells.length).toBeGreaterThanOrEqual(9);
      expect(cells.filter((c) => !WITH_UNIT.test(c))).toEqual([]);
      // A confirmation dialog is part of the page too.
      await page.locator('[data-action="pause"]').click();
      await page.getByRole('dialog').waitFor();
      if (locale === 'zh-CN') leftInEnglish.push(...(await untranslated(page, DATA_WORDS)).map((s) => `dialog: ${s}`));
      axe.push(...(await seriousAxeViolations(page)).map((s) => `dialog: ${s}`));
      await screenshot(page, `lang-${locale}-pause-dialog`);
      await page.keyboard.press('Escape');
      expect(leftInEnglish).toEqual([]);
      expect(axe).toEqual([]);
      expect(problems).toEqual([]);
      await close();
    });

    it(`${locale}: at phone width (390 px) no page scrolls sideways`, async () => {
      const { page, close } = await signedIn(locale, { width: 390, height: 844 });
      const wide: string[] = [];
      for (const { name, hash } of await pagesOf(page)) {
        await show(page, hash);
        wide.push(...(await sidewaysOverflow(page)).map((s) => `${name}: ${s}`));
        await screenshot(page, `lang-${locale}-phone-${name}`);
      }
      expect(wide).toEqual([]);
      await close();
    });
  }

  it('a webhook keeps the language of its messages (en when not given)', async () => {
    const { webhooks } = await expectStatus(t, 200, 'GET', '/api/admin/webhooks');
    expect(webhooks.find((w: { id: string }) => w.id === 'team-hook')).toMatchObject({ language: 'zh-CN' });
    await expectStatus(t, 201, 'PUT', '/api/admin/webhooks/plain-hook', { format: 'slack', url: 'https://hooks.example.com/other' });
    const again = await expectStatus(t, 200, 'GET', '/api/admin/webhooks');
    expect(again.webhooks.find((w: { id: string }) => w.id === 'plain-hook').language).toBeUndefined();
  });

  it('switching to Chinese and back redraws the page, keeps the choice, and sets <html lang>', async () => {
    const { page, problems, close } = await signedIn('en-US');
    await show(page, '#/flags');
    expect(await page.locator('main h1').textContent()).toBe('Flags');
    await page.locator('#language').selectOption('zh-CN');
    await expect.poll(() => page.locator('main h1').textContent()).toBe('功能开关');
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('zh-CN');
    expect(await page.title()).toBe('发布控制器');
    expect(await page.locator('#nav a[data-page="audit"]').textContent()).toBe('审计日志');
    await page.reload();
    await page.locator('#who [data-role]').waitFor();
    await expect.poll(() => page.locator('main h1').textContent()).toBe('功能开关');
    await page.locator('#language').selectOption('en');
    await expect.poll(() => page.locator('main h1').textContent()).toBe('Flags');
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('en');
    expect(await page.locator('#nav a[data-page="audit"]').textContent()).toBe('Audit log');
    expect(problems).toEqual([]);
    await close();
  });

  it('the keyboard reaches the skip link, every page link, the language switch and the rollout actions, and opens an action', async () => {
    const { page, close } = await signedIn('en-US');
    await show(page, `#/rollouts/${encodeURIComponent(rolloutId)}`);
    // From the top of the page, as after loading it: the first Tab stop is the skip link.
    await page.reload();
    await page.locator('[data-action="pause"]').waitFor();
    const reached: string[] = [];
    for (let i = 0; i < 40; i++) {
      await page.keyboard.press('Tab');
      reached.push(
        await page.evaluate(() => {
          const el = document.activeElement as HTMLElement | null;
          return el ? `${el.tagName.toLowerCase()}:${el.id || el.dataset.action || el.textContent?.trim() || ''}` : '';
        }),
      );
    }
    expect(reached[0]).toBe('a:Skip to content');
    expect(reached).toEqual(expect.arrayContaining(['a:Rollouts', 'a:Flags', 'a:Audit log', 'a:Webhooks', 'a:Tokens', 'select:language', 'button:pause']));
    // Enter on the focused Pause opens its dialog with the focus inside; Escape closes it.
    await page.locator('[data-action="pause"]').focus();
    await page.keyboard.press('Enter');
    await page.getByRole('dialog').waitFor();
    expect(await page.evaluate(() => Boolean(document.activeElement?.closest('dialog')))).toBe(true);
    await page.keyboard.press('Escape');
    await page.getByRole('dialog').waitFor({ state: 'detached' });
    await close();
  });

  it("the controller's reasons in the history follow the language (a comment as typed), and switching clears the status line", async () => {
    const { page, problems, close } = await signedIn('en-US');
    await show(page, `#/rollouts/${encodeURIComponent(rolloutId)}`);
    await page.locator('[data-action="pause"]').click();
    await page.locator('#confirm-text').fill('checkout errors spike');
    await page.getByRole('dialog').locator('button[value="confirm"]').click();
    await expect.poll(() => page.locator('#status').textContent(), { timeout: 10_000 }).toBe(`Paused: ${flag} in ${ENV}`);
    const history = page.locator('.history');
    await expect.poll(() => history.innerText(), { timeout: 10_000 }).toMatch(/paused by bootstrap admin: checkout errors spike/);
    await page.locator('#language').selectOption('zh-CN');
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('zh-CN');
    // The line said what was done in English; it is not left standing on a Chinese page.
    expect(await page.locator('#status').textContent()).toBe('');
    await expect.poll(() => history.innerText(), { timeout: 10_000 }).toMatch(/bootstrap admin 暂停了发布：checkout errors spike/);
    expect(await history.innerText()).not.toContain('paused by');
    // The comment is the person's text: marked as data, not as UI text left in English.
    expect(await history.locator('.reason [data-raw]').allTextContents()).toContain('checkout errors spike');
    expect(problems).toEqual([]);
    await close();
  });

  it("a waiting step's verdict and its checks' reasons are said in Chinese, with no English left in them", async () => {
    const patient = shortPolicy('patient', {
      steps: [{ percentage: 1, approval: { required: 0 } }, 100],
      stepDefaults: { minDuration: '100ms', minSamples: 1_000_000, maxDuration: '1h', approval: { required: 1, roles: ['release-manager'] } },
    });
    await expectStatus(t, 201, 'PUT', '/api/admin/policies/patient', patient);
    await expectStatus(t, 201, 'PUT', '/api/admin/flags/search-v2', { environments: { [ENV]: { enabled: false, strategies: [] } } });
    const id = (await expectStatus(t, 201, 'POST', '/api/admin/rollouts', { flag: 'search-v2', environment: ENV, policy: 'patient' })).id;
    // No traffic: the step waits for its treatment samples.
    await waitForRollout(
      t,
      id,
      (r) => r.state === 'running' && /^\d+ of 1000000 treatment samples$/.test(r.stepVerdict.reason ?? ''),
      'waiting for samples',
      20_000,
    );
    const { page, problems, close } = await signedIn('zh-CN');
    await show(page, `#/rollouts/${encodeURIComponent(id)}`);
    const verdict = page.locator('main p.verdict');
    await expect.poll(() => verdict.innerText(), { timeout: 10_000 }).toMatch(/^本步：等待中：实验组已有 \d+ 个样本，需要 1000000 个$/);
    expect(await verdict.locator('[lang="en"]').count()).toBe(0);
    // Each gate and rollback rule still short of its samples says so in Chinese too.
    const reasons = page.locator('main table.gates .reason');
    expect(await reasons.count()).toBeGreaterThanOrEqual(3);
    for (const reason of await reasons.allInnerTexts()) expect(reason).toMatch(/^(实验组|对照组)?已有 \d+ 个样本，需要 \d+ 个$/);
    expect(await page.locator('main table.gates [lang="en"]').count()).toBe(0);
    // What it serves, in Chinese as well.
    expect(await page.locator('main p.served').innerText()).toContain('正在下发 1%');
    expect(await page.locator('main p.served [lang="en"]').count()).toBe(0);
    expect(problems).toEqual([]);
    await close();
  });
});
