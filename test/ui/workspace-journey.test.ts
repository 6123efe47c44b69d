import { existsSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptyDir } from '../support/controller.js';
import { ENV, FAST_ENV, expectStatus } from '../rollouts/scenario-helpers.js';
import { freshPeoplePage, signInThroughForm } from '../people/people-browser.js';
import { ACCOUNTS, startPeopleWorld, type PeopleWorld } from '../people/people-world.js';
import { CHROMIUM, confirmDialog, launchChromium, screenshot, type WatchedPage } from './browser-helpers.js';

/**
 * Issue 18's journey in one go, in real headless Chromium against a controller on Redis whose
 * people sign in through a real OpenID Connect provider: Alice (an admin) signs in through the
 * provider's form, creates a flag with a constraint and a variant with a JSON payload (reviewing
 * the whole definition, saved with If-Match and the CSRF token), starts a rollout of it from its
 * page after reading the policy in plain words, and sees it at 1 %, as a server SDK's feature API
 * serves it too. She is told someone else must approve the next step; Rita (a release manager, in
 * a browser of her own) signs in and approves it, and the flag goes to 10 %. Rita then reads the
 * rollout in Chinese and switches back to English.
 */

const FLAG = 'journey-checkout';
const POLICY = 'journey-signed';
const STRATEGY = `environments.${ENV}.strategies[0]`;
/** Polls wait up to 10 s: the machine is shared, and a save or a tick can take longer than the default second. */
const POLL = { timeout: 10_000 };
const at = (page: Page, path: string) => page.locator(`[data-path="${path}"]`);

/**
 * 1 % at once, then a release manager's approval before each wider step; no gate or sample to
 * wait for, so only the approval holds the rollout (the controller ticks every 50 ms: FAST_ENV).
 */
const signedPolicy = {
  name: POLICY,
  description: 'a release manager approves each widening',
  steps: [{ percentage: 1, approval: { required: 0 } }, 10, 100],
  stepDefaults: { minDuration: '100ms', minSamples: 0, approval: { required: 1, roles: ['release-manager'] } },
  analysisInterval: '100ms',
  gates: [],
  rollback: [],
};

describe('the team works a flag from sign-in to 10 % on the dashboard', { timeout: 120_000 }, () => {
  let w: PeopleWorld;
  let browser: Browser;
  let client: string;
  const opened: WatchedPage[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run bash scripts/ensure-tool.sh chromium chromium`);
    w = await startPeopleWorld({ env: { ...FAST_ENV, POLICIES_DIR: emptyDir() } });
    browser = await launchChromium();
    await expectStatus(w.t, 201, 'PUT', `/api/admin/policies/${POLICY}`, signedPolicy);
    client = await w.t.token({ kind: 'client', environment: ENV });
  });
  afterAll(async () => {
    await browser?.close();
    await w?.stop();
  });

  /** A browser of `login`'s own, signed in through the provider's form, opened at `hash`. */
  async function signedIn(login: string, hash = ''): Promise<WatchedPage> {
    const watched = await freshPeoplePage(browser, w);
    opened.push(watched);
    const atLoginForm = (page: Page) => screenshot(page, `journey-00-${login}-provider-login`);
    await signInThroughForm(watched.page, w, login, { hash, atLoginForm });
    expect(await watched.page.locator('#who').textContent()).toContain(ACCOUNTS[login]!.name);
    return watched;
  }

  /** The flag as a server SDK is served it (GET /api/client/features with a client token). */
  async function served(): Promise<any> {
    const res = await fetch(`${w.t.url}/api/client/features`, { headers: { authorization: client } });
    expect(res.status).toBe(200);
    const { features } = (await res.json()) as { features: Array<{ name: string }> };
    return features.find((f) => f.name === FLAG);
  }

  let rolloutId: string;

  it('Alice signs in through the provider and creates a flag with a constraint and a variant, reviewed and saved with If-Match', async () => {
    const { page } = await signedIn('alice', '#/flags');
    expect(await page.locator('#who').textContent()).toContain('Alice Admin · admin');
    await page.getByRole('link', { name: 'New flag' }).click();
    await page.getByRole('heading', { level: 1, name: 'New flag' }).waitFor();
    await page.getByLabel('Flag name').fill(FLAG);
    await page.getByLabel('Description').fill('The new checkout, north China first');
    await page.getByLabel(`Enabled in ${ENV}`).check();
    await page.getByRole('button', { name: `Add a strategy in ${ENV}` }).click();
    // Dark until the rollout takes the strategy over.
    await at(page, `${STRATEGY}.parameters.rollout`).fill('0');
    await page.getByRole('button', { name: 'Add a constraint to strategy 1' }).click();
    await at(page, `${STRATEGY}.constraints[0].contextName`).fill('region');
    await at(page, `${STRATEGY}.constraints[0].operator`).selectOption('IN');
    await at(page, `${STRATEGY}.constraints[0].values`).fill('cn-north');
    await page.getByRole('button', { name: 'Add a variant to strategy 1' }).click();
    await at(page, `${STRATEGY}.variants[0].name`).fill('blue');
    await at(page, `${STRATEGY}.variants[0].payload.type`).selectOption('json');
    await at(page, `${STRATEGY}.variants[0].payload.value`).fill('{"color":"blue"}');
    await page.getByRole('button', { name: 'Review changes' }).click();
    // A new flag is reviewed whole: the definition as it will be sent.
    const reviewed = JSON.parse((await page.locator('#editor-review pre.diff').textContent()) ?? '');
    expect(reviewed.environments[ENV].strategies[0]).toMatchObject({
      constraints: [{ contextName: 'region', operator: 'IN', values: ['cn-north'] }],
      variants: [{ name: 'blue', payload: { type: 'json', value: '{"color":"blue"}' } }],
    });
    await screenshot(page, 'journey-01-new-flag-review');
    const put = page.waitForRequest((req) => req.method() === 'PUT' && new URL(req.url()).pathname === `/api/admin/flags/${FLAG}`);
    await page.getByRole('button', { name: 'Save flag' }).click();
    const headers = await (await put).allHeaders();
    // "0": created only if nobody made a flag of that name meanwhile; the session's write carries the CSRF token.
    expect(headers['if-match']).toBe('"0"');
    expect(headers['x-csrf-token']).toMatch(/\S{16,}/);
    expect(headers.authorization).toBeUndefined();
    await page.getByRole('heading', { level: 1, name: FLAG }).waitFor();
    await screenshot(page, 'journey-02-flag-page');

    const saved = await expectStatus(w.t, 200, 'GET', `/api/admin/flags/${FLAG}`);
    expect(saved.environments[ENV].enabled).toBe(true);
    expect(saved.environments[ENV].strategies[0].parameters.rollout).toBe('0');
    const audit = (await expectStatus(w.t, 200, 'GET', '/api/admin/audit?limit=1000')).events;
    expect(audit.find((e: any) => e.action === 'flag.put' && e.target.id === FLAG)?.actor).toMatchObject({ type: 'person', name: 'Alice Admin' });
  });

  it('Alice starts a rollout from the flag page after reading the policy, and sees it at 1 %, as the SDKs are served it', async () => {
    const { page } = opened[0]!;
    await page.getByRole('link', { name: 'Start a rollout' }).click();
    await page.getByRole('heading', { level: 1, name: `Start a rollout of ${FLAG}` }).waitFor();
    await page.getByLabel('Environment').selectOption(ENV);
    await page.getByLabel('Policy', { exact: true }).selectOption(POLICY);
    const policy = page.locator(`section.policy[data-policy="${POLICY}"]`);
    await policy.waitFor();
    const steps = await policy
      .locator('table.policy-steps tbody tr')
      .evaluateAll((rows) => rows.map((r) => [r.getAttribute('data-step'), r.lastElementChild?.textContent]));
    expect(steps).toEqual([
      ['1', 'none (entered at the start)'],
      ['10', '1 of: release-manager'],
      ['100', '1 of: release-manager'],
    ]);
    expect(await policy.locator('.policy-windows').textContent()).toBe('Always open: no window limits when steps may advance.');
    await screenshot(page, 'journey-03-start-with-policy');
    await page.getByLabel('Reason').fill('north China first');
    await page.getByRole('button', { name: 'Start rollout' }).click();
    await page.waitForURL(/#\/rollouts\/.+/);
    rolloutId = decodeURIComponent(new URL(page.url()).hash.replace('#/rollouts/', ''));
    await expect.poll(() => page.locator('[data-served]').getAttribute('data-served'), POLL).toBe('1');

    const rollout = await expectStatus(w.t, 200, 'GET', `/api/admin/rollouts/${rolloutId}`);
    expect(rollout).toMatchObject({ flag: FLAG, environment: ENV, policy: POLICY, percentage: 1 });
    expect(rollout.startedBy).toMatchObject({ name: 'Alice Admin' });
    // What a server SDK gets: the strategy the rollout owns at 1 %, still behind the constraint, with the variant.
    const feature = await served();
    expect(feature.enabled).toBe(true);
    expect(feature.strategies).toHaveLength(1);
    expect(feature.strategies[0].parameters).toMatchObject({ rollout: '1' });
    expect(feature.strategies[0].constraints).toEqual([expect.objectContaining({ contextName: 'region', operator: 'IN', values: ['cn-north'] })]);
    expect(feature.strategies[0].variants).toEqual([expect.objectContaining({ name: 'blue', payload: { type: 'json', value: '{"color":"blue"}' } })]);
    expect((await expectStatus(w.t, 200, 'GET', `/api/admin/flags/${FLAG}`)).environments[ENV].strategies[0].id).toBe(`rollout:${rolloutId}`);

    // 1 % holds until a release manager approves 10 %; Alice started it, so it cannot be her.
    await page.locator('#approve-blocked').getByText('You started this rollout, so someone else must approve it.').waitFor();
    expect(await page.locator('button[data-action="approve"]').isDisabled()).toBe(true);
    expect((await expectStatus(w.t, 200, 'GET', `/api/admin/rollouts/${rolloutId}`)).state).toBe('awaiting_approval');
    await screenshot(page, 'journey-04-at-1-percent-awaiting-approval');
  });

  it('Rita, a release manager in her own browser, approves 10 % from the dashboard, and the flag goes to 10 %', async () => {
    const { page } = await signedIn('rita', `#/rollouts/${encodeURIComponent(rolloutId)}`);
    expect(await page.locator('#who').textContent()).toContain('Rita Release · release-manager');
    await page.getByRole('button', { name: 'Approve 10%' }).click();
    await confirmDialog(page, 'Approve 10%', 'north looks fine');
    await page.locator('#status').getByText('Approved 10%').waitFor();
    await expect.poll(() => page.locator('[data-served]').getAttribute('data-served'), POLL).toBe('10');
    await screenshot(page, 'journey-05-approved-at-10-percent');

    const rollout = await expectStatus(w.t, 200, 'GET', `/api/admin/rollouts/${rolloutId}`);
    expect(rollout.percentage).toBe(10);
    const host = new URL(w.provider.issuer).host;
    expect(rollout.approvals).toEqual([
      expect.objectContaining({ step: 1, by: { id: `oidc:${host}:rita`, name: 'Rita Release', role: 'release-manager' }, comment: 'north looks fine' }),
    ]);
    const feature = await served();
    expect(feature.strategies[0].parameters).toMatchObject({ rollout: '10' });
    expect(feature.strategies[0].constraints[0].values).toEqual(['cn-north']);
  });

  it('Rita reads the rollout in Chinese and switches back to English', async () => {
    const { page } = opened[1]!;
    await page.locator('#language').selectOption('zh-CN');
    await expect.poll(() => page.locator('#actions-title').textContent(), POLL).toBe('操作');
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('zh-CN');
    expect(await page.locator('#approvals-title').textContent()).toBe('审批');
    expect(await page.locator('[data-served] strong').textContent()).toBe('当前下发：');
    expect(await page.locator('#nav a[data-page="audit"]').textContent()).toBe('审计日志');
    // Data stays as it is: the flag's name, and the comment Rita typed.
    expect(await page.locator('main h1').textContent()).toContain(FLAG);
    expect(await page.locator('ul.approvals').textContent()).toContain('north looks fine');
    await screenshot(page, 'journey-06-rollout-zh-CN');

    await page.locator('#language').selectOption('en');
    await expect.poll(() => page.locator('#actions-title').textContent(), POLL).toBe('Actions');
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('en');
    expect(await page.locator('#approvals-title').textContent()).toBe('Approvals');
    await screenshot(page, 'journey-07-rollout-en-again');
  });

  it('saw no console error, failed request or missing file on any page', () => {
    expect(opened.flatMap((o) => o.problems)).toEqual([]);
  });
});
