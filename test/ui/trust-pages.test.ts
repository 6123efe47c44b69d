import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptyDir, startTestController, type TestController } from '../support/controller.js';
import {
  ENV,
  FAST_ENV,
  HEALTHY,
  UNHEALTHY,
  adminPerson,
  expectStatus,
  shortPolicy,
  startTraffic,
  stopAllTraffic,
  waitForRollout,
  type AdminPerson,
} from '../rollouts/scenario-helpers.js';
import { CHROMIUM, launchChromium, openPage, screenshot, signIn } from './browser-helpers.js';

/**
 * The views a change board relies on, in real headless Chromium against a whole controller: a
 * rolled-back rollout shows the flag served disabled and the next steps a person may take; a
 * rollout whose flag was killed by hand says so and offers its restore, not a second kill; the
 * go-live report of a gate-caused rollback names that gate with its value, threshold, samples and
 * bounds. And every number the rollout page and the report print carries its unit.
 */

const STEP_TIMEOUT = 15_000;

/** A value cell with its unit: a percentage, milliseconds, requests or evaluations, or no value at all. */
const WITH_UNIT = /^(–|no data|-?[\d,]+(\.\d+)?(%| ms| requests?| evaluations?))$/;

/** Value, threshold and samples cells of the gate tables on a rollout page. */
async function gateCells(page: Page): Promise<string[]> {
  return page
    .locator('table.gates tbody tr')
    .evaluateAll((rows) => rows.flatMap((row) => [...row.querySelectorAll('td')].slice(0, 3).map((td) => (td.textContent ?? '').trim())));
}

describe('trust pages in Chromium', { timeout: 90_000 }, () => {
  let t: TestController;
  let browser: Browser;
  let editor: AdminPerson;
  let rita: AdminPerson;
  let viewer: AdminPerson;
  let client: string;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run bash scripts/ensure-tool.sh chromium chromium`);
    t = await startTestController({ env: { ...FAST_ENV, POLICIES_DIR: emptyDir() } });
    editor = await adminPerson(t, 'editor', 'erin-editor');
    rita = await adminPerson(t, 'release-manager', 'rita-release-manager');
    viewer = await adminPerson(t, 'viewer', 'vera-viewer');
    client = await t.token({ kind: 'client', environment: ENV });
    await expectStatus(t, 201, 'PUT', '/api/admin/policies/short', shortPolicy('short'));
    // Only a gate can roll this one back: no rollback rules, a 95 % confidence gate that rolls back.
    await expectStatus(
      t,
      201,
      'PUT',
      '/api/admin/policies/gate-judged',
      shortPolicy('gate-judged', {
        rollback: [],
        onGateFailure: 'rollback',
        gates: [{ metric: 'error_rate', cohort: 'treatment', max: 0.05, confidence: 0.95 }],
        traffic: { minExposures: 0 },
      }),
    );
    browser = await launchChromium();
  });

  afterAll(async () => {
    await stopAllTraffic();
    await browser?.close();
    await t?.stop();
  });

  async function rolloutOn(flag: string, policy: string): Promise<string> {
    await expectStatus(t, 201, 'PUT', `/api/admin/flags/${flag}`, { environments: { [ENV]: { enabled: false, strategies: [] } } }, editor.secret);
    return (await expectStatus(t, 201, 'POST', '/api/admin/rollouts', { flag, environment: ENV, policy }, editor.secret)).id;
  }

  async function openRollout(id: string, secret: string): Promise<{ page: Page; problems: string[] }> {
    const opened = await openPage(browser, t.url);
    await signIn(opened.page, secret);
    await opened.page.goto(`/#/rollouts/${encodeURIComponent(id)}`);
    await opened.page.locator('.page-head h1').waitFor();
    return opened;
  }

  it('a rolled-back rollout: served disabled, the chart drops to 0 %, and the next steps are offered with their warning', async () => {
    const flag = 'rollback-me';
    const id = await rolloutOn(flag, 'short');
    const traffic = startTraffic(t, client, flag, UNHEALTHY);
    await waitForRollout(t, id, (r) => r.state === 'rolled_back', 'rolled back', STEP_TIMEOUT);
    await traffic.stop();

    const { page, problems } = await openRollout(id, editor.secret);
    await expect.poll(() => page.locator('p.served').textContent()).toContain('served disabled');
    expect(await page.locator('p.served').getAttribute('data-served')).toBe('0');
    await expect.poll(() => page.locator('section.ended').textContent()).toContain('Cause: error_rate(treatment) > 0.2 for 500ms');
    const next = await page.locator('ul.next-steps').textContent();
    expect(next).toContain('Start a new rollout of rollback-me from 0%');
    expect(next).toContain('warning: it would serve 1% again at once, and no rollout would watch it or roll it back');
    // In Chinese the next steps and their warning are the controller's wording said in Chinese, none left in English.
    await page.evaluate(() => localStorage.setItem('rollout-controller.locale', 'zh-CN'));
    await page.reload();
    await expect.poll(() => page.locator('ul.next-steps').textContent()).toContain('它会立即重新下发 1%，且没有发布观察或回滚它');
    expect(await page.locator('ul.next-steps').textContent()).toContain('从 0% 开始 rollback-me 的新发布');
    expect(await page.locator('ul.next-steps [lang="en"]').count()).toBe(0);
    await page.evaluate(() => localStorage.setItem('rollout-controller.locale', 'en'));
    await page.reload();
    await page.locator('ul.next-steps').waitFor();
    // Nothing is left to wait for, and no Kill is offered for a flag already killed.
    expect(await page.locator('section[aria-labelledby="waits-title"]').count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Kill', exact: true }).count()).toBe(0);
    await page.getByRole('button', { name: 'Start a new rollout from 0%' }).waitFor();
    await page.getByRole('button', { name: 'Restore the flag as it is' }).waitFor();
    // The served-percentage chart ends at 0 %.
    await page.locator('.chart svg').first().waitFor();
    expect(await page.locator('.chart').filter({ hasText: 'Served percentage' }).locator('svg[role="img"]').getAttribute('aria-label')).toMatch(
      /→ 0%; now 0%\.$/,
    );
    for (const cell of await gateCells(page)) expect(cell).toMatch(WITH_UNIT);
    await screenshot(page, 'trust-01-rolled-back');

    // A viewer sees the same state, with no buttons but the reason why.
    const asViewer = await openRollout(id, viewer.secret);
    await expect.poll(() => asViewer.page.locator('.toolbar').textContent()).toContain('Your role (viewer) cannot take the next steps listed above.');
    await asViewer.page.close();

    // Starting again from the page restores the flag and starts from 0 % (the short policy's first step serves 1 %).
    await page.getByRole('button', { name: 'Start a new rollout from 0%' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('textbox').fill('fix deployed');
    await dialog.getByRole('button', { name: 'Start the rollout', exact: true }).click();
    await expect
      .poll(async () => (await t.api('GET', '/api/admin/rollouts')).body.rollouts.filter((r: any) => r.flag === flag).length, { timeout: STEP_TIMEOUT })
      .toBe(2);
    expect((await t.api('GET', `/api/admin/flags/${flag}`)).body.killSwitches[ENV]).toBeUndefined();
    expect(problems).toEqual([]);
  });

  it('a rollout whose flag was killed by hand: served disabled, waiting for a person, Restore offered instead of Kill', async () => {
    const flag = 'killed-by-hand';
    const id = await rolloutOn(flag, 'short');
    startTraffic(t, client, flag, HEALTHY);
    await expectStatus(t, 200, 'POST', `/api/admin/flags/${flag}/environments/${ENV}/kill`, { reason: 'P0 incident in payments' }, rita.secret);

    const { page, problems } = await openRollout(id, rita.secret);
    await expect.poll(() => page.locator('p.served').textContent()).toContain('served disabled (kill switch: P0 incident in payments)');
    await expect.poll(() => page.locator('.waits').textContent()).toContain('the flag is killed here (P0 incident in payments)');
    await page.getByRole('button', { name: 'Restore', exact: true }).waitFor();
    expect(await page.getByRole('button', { name: 'Kill', exact: true }).count()).toBe(0);
    await screenshot(page, 'trust-02-killed-flag');

    // The list says the same: the card shows the flag served disabled, not "serving 1%".
    await page.getByRole('link', { name: 'Rollouts', exact: true }).click();
    await expect.poll(() => page.locator(`li.rollout-card[data-rollout="${id}"] p.served`).textContent()).toContain('served disabled');
    // And a new rollout on a killed flag is refused unless it restores the flag.
    await expectStatus(t, 200, 'POST', `/api/admin/rollouts/${id}/abort`, {}, editor.secret);
    const refused = await t.api('POST', '/api/admin/rollouts', { flag, environment: ENV, policy: 'short' }, editor.secret);
    expect(refused).toMatchObject({ status: 409, body: { error: 'flag_killed' } });
    expect(problems).toEqual([]);
  });

  it('the go-live report of a gate-caused rollback names the gate, its value, threshold, samples and bounds', async () => {
    const flag = 'gate-judged';
    const id = await rolloutOn(flag, 'gate-judged');
    const traffic = startTraffic(t, client, flag, UNHEALTHY);
    const done = await waitForRollout(t, id, (r) => r.state === 'rolled_back', 'rolled back by its gate', STEP_TIMEOUT);
    await traffic.stop();
    expect(done.history.at(-1).cause).toMatchObject({ kind: 'gate', verdict: 'fail', confident: true });

    const { page, problems } = await openRollout(id, viewer.secret);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Go-live report (HTML)' }).click()]);
    const html = await readFile((await download.path())!, 'utf8');
    expect(html).not.toContain('unknown');
    expect(html).toContain('Gate (failed beyond doubt): <code>error_rate(treatment) &lt;= 0.05 at 0.95 confidence</code>');
    expect(html).toMatch(/was <strong>\d+(\.\d+)?%<\/strong> over [\d,]+ requests \(threshold 5%\)/);
    expect(html).toMatch(/95% confidence bounds: [\d.]+% to [\d.]+%/);
    // The plan lists every check of the policy, traffic checks included.
    expect(html).toContain('Traffic checks: the flag evaluated at least 0 times in the step');
    // Every value of every gate table carries its unit.
    const report = await browser.newPage();
    await report.setContent(html);
    const cells = await report.locator('table').evaluateAll((tables) =>
      tables
        .filter((table) => [...table.querySelectorAll('th')].some((th) => th.textContent === 'Threshold'))
        .flatMap((table) => {
          const heads = [...table.querySelectorAll('th')].map((th) => th.textContent);
          const columns = ['Value', 'Threshold', 'Samples'].map((name) => heads.indexOf(name));
          return [...table.querySelectorAll('tbody tr')].flatMap((row) => columns.map((c) => (row.querySelectorAll('td')[c]?.textContent ?? '').trim()));
        }),
    );
    expect(cells.length).toBeGreaterThan(0);
    for (const cell of cells) expect(cell).toMatch(WITH_UNIT);
    await screenshot(report, 'trust-03-gate-rollback-report');
    await report.close();
    expect(problems).toEqual([]);
  });
});
