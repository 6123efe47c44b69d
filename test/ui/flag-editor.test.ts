import { existsSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptyDir, startTestController, type TestController } from '../support/controller.js';
import { adminPerson, expectStatus, shortPolicy } from '../rollouts/scenario-helpers.js';
import { CHROMIUM, launchChromium, openPage, screenshot, signIn, unnamedControls } from './browser-helpers.js';
import { untranslated } from './page-checks.js';

/**
 * The flag editor in real headless Chromium: a flag is created from the dashboard with a
 * constraint and a variant with a JSON payload; a refusal of the API is shown next to its field;
 * an edit shows its diff and is sent with If-Match, so a change made meanwhile is refused (412)
 * and shown, not overwritten. An environment's variants (payloads, overrides) and the flag's
 * impression data are edited the same way. A viewer is not offered the editor.
 */

const STRATEGY = 'environments.production.strategies[0]';
const VARIANT = 'environments.production.variants[0]';
/** Polls wait up to 10 s: the machine is shared, and a save or a tick can take longer than the default second. */
const POLL = { timeout: 10_000 };
const at = (page: Page, path: string) => page.locator(`[data-path="${path}"]`);

describe('flag editor in Chromium', { timeout: 90_000 }, () => {
  let t: TestController;
  let browser: Browser;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run bash scripts/ensure-tool.sh chromium chromium`);
    t = await startTestController({ env: { POLICIES_DIR: emptyDir() } });
    browser = await launchChromium();
    await expectStatus(t, 201, 'PUT', '/api/admin/policies/short', shortPolicy('short'));
  });
  afterAll(async () => {
    await browser?.close();
    await t?.stop();
  });

  it('creates a flag with a constraint and a variant, shows a refusal at its field, and edits it with a diff and If-Match, and starts a rollout of it at 1 %', async () => {
    const { page, problems } = await openPage(browser, t.url);
    await signIn(page, t.adminToken);
    await page.goto('/#/flags');
    await page.getByRole('link', { name: 'New flag' }).click();
    await page.getByRole('heading', { level: 1, name: 'New flag' }).waitFor();
    await page.getByLabel('Flag name').fill('ui-checkout');
    await page.getByLabel('Description').fill('New checkout');
    await page.getByLabel('Enabled in production').check();
    await page.getByRole('button', { name: 'Add a strategy in production' }).click();
    await at(page, `${STRATEGY}.parameters.rollout`).fill('100');
    await page.getByRole('button', { name: 'Add a constraint to strategy 1' }).click();
    // A one-value operator: one value field; a regular expression that does not compile is the API's to refuse.
    await at(page, `${STRATEGY}.constraints[0].operator`).selectOption('REGEX');
    await at(page, `${STRATEGY}.constraints[0].value`).fill('([');
    await page.getByRole('button', { name: 'Add a variant to strategy 1' }).click();
    await at(page, `${STRATEGY}.variants[0].name`).fill('blue');
    await at(page, `${STRATEGY}.variants[0].payload.type`).selectOption('json');
    await at(page, `${STRATEGY}.variants[0].payload.value`).fill('{"color":"blue"}');
    expect(await unnamedControls(page)).toEqual([]);
    await page.getByRole('button', { name: 'Review changes' }).click();
    expect(await page.locator('#editor-review pre.diff').textContent()).toContain('"name": "ui-checkout"');
    await page.getByRole('button', { name: 'Save flag' }).click();
    const issue = page.locator(`[data-issue-path="${STRATEGY}.constraints[0].value"]`);
    await expect.poll(() => issue.textContent(), POLL).toBe('not a valid regular expression');
    expect(await at(page, `${STRATEGY}.constraints[0].value`).getAttribute('aria-invalid')).toBe('true');
    await screenshot(page, 'flag-editor-01-refused');

    // A list operator: one value per line; case and inversion.
    await at(page, `${STRATEGY}.constraints[0].operator`).selectOption('IN');
    await at(page, `${STRATEGY}.constraints[0].values`).fill('alice\nbob');
    await at(page, `${STRATEGY}.constraints[0].caseInsensitive`).check();
    await page.getByRole('button', { name: 'Review changes' }).click();
    await page.getByRole('button', { name: 'Save flag' }).click();
    await page.getByRole('heading', { level: 1, name: 'ui-checkout' }).waitFor();
    const saved = await expectStatus(t, 200, 'GET', '/api/admin/flags/ui-checkout');
    expect(saved.description).toBe('New checkout');
    expect(saved.environments.production.enabled).toBe(true);
    expect(saved.environments.staging.enabled).toBe(false);
    const strategy = saved.environments.production.strategies[0];
    expect(strategy.constraints).toEqual([{ contextName: 'userId', operator: 'IN', values: ['alice', 'bob'], caseInsensitive: true }]);
    expect(strategy.variants[0]).toMatchObject({ name: 'blue', weight: 1000, payload: { type: 'json', value: '{"color":"blue"}' } });
    expect(strategy.parameters).toEqual({ rollout: '100', stickiness: 'default', groupId: 'ui-checkout' });

    // An edit shows the diff field by field; a change made meanwhile is refused, not overwritten.
    await page.getByRole('link', { name: 'Edit flag' }).click();
    await at(page, `${STRATEGY}.parameters.rollout`).fill('50');
    await page.getByRole('button', { name: 'Review changes' }).click();
    expect(await page.locator('#editor-review pre.diff').textContent()).toBe(`  ~ ${STRATEGY}.parameters.rollout: "100" → "50"`);
    await screenshot(page, 'flag-editor-02-diff');
    await expectStatus(t, 200, 'PUT', '/api/admin/flags/ui-checkout', { ...saved, killSwitches: undefined, description: 'changed meanwhile' });
    await page.getByRole('button', { name: 'Save flag' }).click();
    await page.locator('[data-conflict="version"]').waitFor();
    await screenshot(page, 'flag-editor-03-conflict');
    expect((await expectStatus(t, 200, 'GET', '/api/admin/flags/ui-checkout')).environments.production.strategies[0].parameters.rollout).toBe('100');
    await page.getByRole('button', { name: 'Load the current version' }).click();
    await expect.poll(() => page.getByLabel('Description').inputValue(), POLL).toBe('changed meanwhile');
    await at(page, `${STRATEGY}.parameters.rollout`).fill('50');
    await page.getByRole('button', { name: 'Review changes' }).click();
    await page.getByRole('button', { name: 'Save flag' }).click();
    await page.getByRole('heading', { level: 1, name: 'ui-checkout' }).waitFor();
    const after = await expectStatus(t, 200, 'GET', '/api/admin/flags/ui-checkout');
    expect(after.environments.production.strategies[0].parameters.rollout).toBe('50');
    expect(after.description).toBe('changed meanwhile');

    // And out to users: a rollout of it from its page, at 1 % first.
    await page.getByRole('link', { name: 'Start a rollout' }).click();
    await page.getByLabel('Policy', { exact: true }).selectOption('short');
    await page.getByRole('button', { name: 'Start rollout' }).click();
    await page.waitForURL(/#\/rollouts\/.+/);
    await expect.poll(() => page.locator('[data-served]').first().getAttribute('data-served'), POLL).toBe('1');
    await screenshot(page, 'flag-editor-04-rollout-at-1-percent');
    const served = (await expectStatus(t, 200, 'GET', '/api/admin/flags/ui-checkout')).environments.production.strategies[0];
    expect(served.parameters.rollout).toBe('1');
    expect(served.constraints[0].values).toEqual(['alice', 'bob']);
    expect(problems.filter((p) => !/\b(400|412)\b/.test(p))).toEqual([]);
  });

  it('lists, creates and changes segments, with a refusal shown at its field', async () => {
    const { page, problems } = await openPage(browser, t.url);
    await signIn(page, t.adminToken);
    await page.getByRole('link', { name: 'Segments' }).click();
    await page.getByRole('heading', { level: 1, name: 'Segments' }).waitFor();
    await page.getByRole('button', { name: 'New segment' }).click();
    await page.getByLabel('Segment id').fill('5');
    await page.getByLabel('Name').fill('internal');
    await page.getByRole('button', { name: 'Add a constraint' }).click();
    await at(page, 'constraints[0].contextName').fill('email');
    await at(page, 'constraints[0].operator').selectOption('STR_ENDS_WITH');
    await at(page, 'constraints[0].values').fill('@example.com');
    expect(await unnamedControls(page)).toEqual([]);
    await page.getByRole('button', { name: 'Save segment' }).click();
    const row = page.locator('tr[data-segment="5"]');
    await row.waitFor();
    expect(await row.textContent()).toContain('email STR_ENDS_WITH @example.com');
    await screenshot(page, 'segments-01-list');

    await row.getByRole('button', { name: 'Change segment 5' }).click();
    await at(page, 'constraints[0].operator').selectOption('REGEX');
    await at(page, 'constraints[0].value').fill('[');
    await page.getByRole('button', { name: 'Save segment' }).click();
    await expect.poll(() => page.locator('[data-issue-path="constraints[0].value"]').textContent(), POLL).toBe('not a valid regular expression');
    await at(page, 'constraints[0].value').fill('@example\\.(com|org)$');
    await page.getByRole('button', { name: 'Save segment' }).click();
    await expect.poll(() => row.textContent(), POLL).toContain('email REGEX @example\\.(com|org)$');
    expect((await expectStatus(t, 200, 'GET', '/api/admin/segments/5')).constraints).toEqual([
      { contextName: 'email', operator: 'REGEX', value: '@example\\.(com|org)$', values: [] },
    ]);
    expect(problems.filter((p) => !/\b400\b/.test(p))).toEqual([]);
  });

  it("edits an environment's variants (payloads, overrides) and impression data: a refusal at its field, every change in the diff, served to SDKs, in Chinese too", async () => {
    await expectStatus(t, 201, 'PUT', '/api/admin/flags/ui-variants', { environments: { production: { enabled: true, strategies: [{ name: 'default' }] } } });
    const { page, problems } = await openPage(browser, t.url);
    await signIn(page, t.adminToken);
    await page.goto('/#/flag-edit/ui-variants');
    await page.getByLabel('Impression data: SDKs emit an impression event for every evaluation').check();
    await page.getByRole('button', { name: 'Add a variant in production' }).click();
    await at(page, `${VARIANT}.name`).fill('red');
    // Over 1000: the API's to refuse, shown at the field.
    await at(page, `${VARIANT}.weight`).fill('1001');
    await at(page, `${VARIANT}.payload.type`).selectOption('json');
    await at(page, `${VARIANT}.payload.value`).fill('{"color":"red"}');
    await page.getByRole('button', { name: 'Add an override to variant 1 in production' }).click();
    await at(page, `${VARIANT}.overrides[0].contextName`).fill('userId');
    await at(page, `${VARIANT}.overrides[0].values`).fill('alice\nbob');
    await page.getByRole('button', { name: 'Add a variant in production' }).click();
    await at(page, 'environments.production.variants[1].name').fill('green');
    await at(page, 'environments.production.variants[1].weight').fill('500');
    await at(page, 'environments.production.variants[1].stickiness').selectOption('sessionId');
    await at(page, 'environments.production.variants[1].payload.type').selectOption('string');
    await at(page, 'environments.production.variants[1].payload.value').fill('go');
    expect(await unnamedControls(page)).toEqual([]);
    await page.getByRole('button', { name: 'Review changes' }).click();
    const diff = (await page.locator('#editor-review pre.diff').textContent())!.split('\n');
    expect(diff).toEqual([
      expect.stringMatching(/^ {2}\+ environments\.production\.variants\[0\]: \{"name":"red","weight":1001,/),
      '  + environments.production.variants[1]: {"name":"green","weight":500,"weightType":"variable","stickiness":"sessionId","payload":{"type":"string","value":"go"}}',
      '  ~ impressionData: false → true',
    ]);
    await page.getByRole('button', { name: 'Save flag' }).click();
    const issue = page.locator(`[data-issue-path="${VARIANT}.weight"]`);
    await expect.poll(() => issue.textContent(), POLL).toMatch(/1000/);
    expect(await at(page, `${VARIANT}.weight`).getAttribute('aria-invalid')).toBe('true');
    expect((await expectStatus(t, 200, 'GET', '/api/admin/flags/ui-variants')).impressionData).toBe(false);
    await screenshot(page, 'flag-editor-06-variant-refused');

    await at(page, `${VARIANT}.weight`).fill('500');
    await page.getByRole('button', { name: 'Review changes' }).click();
    await page.getByRole('button', { name: 'Save flag' }).click();
    await page.getByRole('heading', { level: 1, name: 'ui-variants' }).waitFor();
    const saved = await expectStatus(t, 200, 'GET', '/api/admin/flags/ui-variants');
    expect(saved.impressionData).toBe(true);
    const red = { name: 'red', weight: 500, weightType: 'variable', stickiness: 'default', payload: { type: 'json', value: '{"color":"red"}' } };
    const green = { name: 'green', weight: 500, weightType: 'variable', stickiness: 'sessionId', payload: { type: 'string', value: 'go' } };
    expect(saved.environments.production.variants).toEqual([{ ...red, overrides: [{ contextName: 'userId', values: ['alice', 'bob'] }] }, green]);
    const client = await t.token({ kind: 'client', environment: 'production' });
    const { features } = await (await fetch(`${t.url}/api/client/features`, { headers: { authorization: client } })).json();
    const feature = features.find((f: { name: string }) => f.name === 'ui-variants');
    expect(feature).toMatchObject({ impressionData: true, variants: saved.environments.production.variants });

    // A change to one payload is one line of the diff.
    await page.getByRole('link', { name: 'Edit flag' }).click();
    await at(page, `${VARIANT}.payload.value`).fill('{"color":"crimson"}');
    await page.getByRole('button', { name: 'Review changes' }).click();
    expect(await page.locator('#editor-review pre.diff').textContent()).toBe(
      `  ~ ${VARIANT}.payload.value: "{\\"color\\":\\"red\\"}" → "{\\"color\\":\\"crimson\\"}"`,
    );
    await screenshot(page, 'flag-editor-07-variant-diff');
    // A json payload that does not parse is the API's to refuse (as Unleash does), shown at the payload.
    await at(page, `${VARIANT}.payload.value`).fill('{"color":');
    await page.getByRole('button', { name: 'Review changes' }).click();
    await page.getByRole('button', { name: 'Save flag' }).click();
    await expect
      .poll(() => page.locator(`[data-issue-path="${VARIANT}.payload.value"]`).textContent(), POLL)
      .toBe('not valid JSON (a payload of type "json" must parse as JSON)');
    expect(await at(page, `${VARIANT}.payload.value`).getAttribute('aria-invalid')).toBe('true');
    expect((await expectStatus(t, 200, 'GET', '/api/admin/flags/ui-variants')).environments.production.variants[0].payload.value).toBe('{"color":"red"}');

    // In Chinese, the variant's fields, its override and their buttons are the catalog's.
    await page.evaluate(() => localStorage.setItem('rollout-controller.locale', 'zh-CN'));
    await page.reload();
    await at(page, `${VARIANT}.overrides[0].values`).waitFor();
    expect(await page.getByRole('button', { name: '为production 中的变体 1添加覆盖' }).count()).toBe(1);
    expect(await page.getByLabel('曝光数据：SDK 每次求值都发出曝光事件').isChecked()).toBe(true);
    // Data of this test: environment names, and the name of segment 5, which the segments help lists.
    expect(await untranslated(page, ['production', 'staging', 'development', 'test', 'internal'])).toEqual([]);
    await screenshot(page, 'flag-editor-08-variants-zh-CN');
    expect(problems.filter((p) => !/\b400\b/.test(p))).toEqual([]);
  });

  it('fits a phone: the editor, the segments page and the start page scroll only downwards', async () => {
    const { page, problems } = await openPage(browser, t.url, { viewport: { width: 390, height: 844 } });
    await signIn(page, t.adminToken);
    for (const [hash, ready] of [
      ['#/flag-edit/ui-checkout', 'form.flag-editor fieldset.strategy'],
      ['#/segments', 'tr[data-segment="5"]'],
      ['#/rollout-start/ui-checkout', 'section.policy'],
      ['#/policies', 'section.policy'],
    ] as const) {
      await page.goto(`/${hash}`);
      await page.locator(ready).first().waitFor();
      const wide = await page.evaluate(() =>
        [...document.querySelectorAll('*')]
          .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1)
          .map((e) => `${e.tagName}.${e.className}#${e.id} ${Math.round(e.getBoundingClientRect().right)}`)
          .slice(0, 8),
      );
      expect(wide, hash).toEqual([]);
    }
    await screenshot(page, 'flag-editor-05-phone');
    // The segments there are, offered where a strategy names segments.
    await page.goto('/#/flag-edit/ui-checkout');
    await page.getByRole('button', { name: 'Add a strategy in staging' }).click();
    const segmentsHelp = page.locator('[data-path="environments.staging.strategies[0].segments"] + p');
    await expect
      .poll(() => segmentsHelp.textContent(), POLL)
      .toBe('Comma-separated segment ids; every segment’s constraints must hold too. Segments: 5 (internal).');
    expect(problems).toEqual([]);
  });

  it('a viewer is offered neither the new-flag link nor the editor', async () => {
    const viewer = await adminPerson(t, 'viewer', 'vic-viewer');
    const { page } = await openPage(browser, t.url);
    await signIn(page, viewer.secret);
    await page.goto('/#/flags/ui-checkout');
    await page.getByRole('heading', { level: 1, name: 'ui-checkout' }).waitFor();
    expect(await page.getByRole('link', { name: 'Edit flag' }).count()).toBe(0);
    await page.goto('/#/flag-edit/ui-checkout');
    await page.getByText('Your role (viewer) cannot change flags.').waitFor();
    expect(await page.locator('form.flag-editor').count()).toBe(0);
  });
});
