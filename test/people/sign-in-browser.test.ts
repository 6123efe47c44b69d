import { existsSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, confirmDialog, launchChromium, openPage, screenshot, type WatchedPage } from '../ui/browser-helpers.js';
import { freshPeoplePage, signInThroughForm } from './people-browser.js';
import { startPeopleWorld, startSignedRollout, type PeopleWorld } from './people-world.js';

/**
 * Issue 18, people, in real headless Chromium: two people sign in through the OpenID Connect
 * provider's own login form and use the dashboard with a session cookie (no token in the tab);
 * the one who started a rollout is told someone else must approve it, the other approves it from
 * the dashboard (its write carries the CSRF token) and is named on the approval; signing out ends
 * the session. Token sign-in stays, and now takes a pasted `Bearer …` and says what a client
 * token is for.
 */
describe('signing in with the organisation in Chromium', { timeout: 90_000 }, () => {
  let w: PeopleWorld;
  let browser: Browser;
  const opened: WatchedPage[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run bash scripts/ensure-tool.sh chromium chromium`);
    w = await startPeopleWorld();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await w?.stop();
  });

  /** A fresh browser (its own cookies), watched to the end of the file. */
  async function freshPage(): Promise<WatchedPage> {
    const watched = await freshPeoplePage(browser, w);
    opened.push(watched);
    return watched;
  }

  /** A fresh browser, signed in as `login` through the provider's form. */
  async function signInAs(login: string, hash = ''): Promise<WatchedPage> {
    const watched = await freshPage();
    const atLoginForm = login === 'rita' ? (page: Page) => screenshot(page, 'people-provider-login') : undefined;
    await signInThroughForm(watched.page, w, login, { hash, atLoginForm });
    return watched;
  }

  const sessionStorageOf = (page: Page) => page.evaluate(() => JSON.stringify(sessionStorage));

  it('offers sign-in with the organisation, and signs a person in with a session cookie the page cannot read', async () => {
    const watched = await freshPage();
    await watched.page.goto('/');
    await watched.page.getByRole('link', { name: 'Sign in with your organisation' }).waitFor();
    await screenshot(watched.page, 'people-sign-in');

    const { page, context } = await signInAs('rita');
    expect(await page.locator('#who').textContent()).toContain('Rita Release · release-manager');
    expect(await sessionStorageOf(page)).toBe('{}');
    expect(await page.evaluate(() => document.cookie)).toBe('');
    const [cookie] = (await context.cookies(w.t.url)).filter((c) => c.name === 'rollout-session');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/', secure: false });
    await screenshot(page, 'people-signed-in');
  });

  it('the starter is told someone else must approve; another release manager approves from the dashboard and is named', async () => {
    const rita = await w.signIn('rita');
    const dev = await w.signIn('dev');
    const started = await startSignedRollout(w, dev, rita, 'browser-two-people', 'signed-ui');
    expect(started.status).toBe(201);
    const id: string = started.body.id;

    const asRita = await signInAs('rita', `#/rollouts/${encodeURIComponent(id)}`);
    await asRita.page.locator('#approve-blocked').getByText('You started this rollout, so someone else must approve it.').waitFor();
    expect(await asRita.page.locator('button[data-action="approve"]').isDisabled()).toBe(true);

    const asRob = await signInAs('rob', `#/rollouts/${encodeURIComponent(id)}`);
    const { page } = asRob;
    expect(await page.locator('#who').textContent()).toContain('Rob Release · release-manager');
    // Rob signs in again in a second tab (the provider remembers him): the cookie, and with it the
    // CSRF token, changes under the first tab, whose approval must still go through.
    const second = await asRob.context.newPage();
    const before = (await asRob.context.cookies(w.t.url)).find((c) => c.name === 'rollout-session')!.value;
    await second.goto('/auth/login?returnTo=%23%2Frollouts');
    await second.locator('#who').getByText('Rob Release').waitFor();
    expect((await asRob.context.cookies(w.t.url)).find((c) => c.name === 'rollout-session')!.value).not.toBe(before);
    await second.close();
    await page.getByRole('button', { name: 'Approve 1%' }).click();
    await confirmDialog(page, 'Approve 1%', 'approved from the dashboard');
    await page.locator('#status').getByText('Approved 1%').waitFor();
    // The first try went with the old CSRF token and was refused (403); the second with the new one went through.
    expect(asRob.problems.splice(0)).toEqual(['console: Failed to load resource: the server responded with a status of 403 (Forbidden)']);
    await screenshot(page, 'people-approved-by-second-person');

    const rollout = (await w.t.api('GET', `/api/admin/rollouts/${id}`)).body;
    const host = new URL(w.provider.issuer).host;
    expect(rollout).toMatchObject({ state: 'running', percentage: 1 });
    expect(rollout.approvals).toEqual([
      expect.objectContaining({ by: { id: `oidc:${host}:rob`, name: 'Rob Release', role: 'release-manager' }, comment: 'approved from the dashboard' }),
    ]);
  });

  it('an admin manages tokens on the dashboard: the secret is shown once and works, revoking stops it; others are not offered the page', async () => {
    const { page } = await signInAs('alice', '#/tokens');
    await page.getByRole('button', { name: 'New token' }).click();
    await page.getByLabel('Kind').selectOption('client');
    await page.getByLabel('Name').fill('shop-from-dashboard');
    await page.getByLabel('Environment').selectOption('production');
    await page.getByRole('button', { name: 'Create the token' }).click();
    const secret = (await page.locator('#secret-once').textContent())!;
    expect(secret).toMatch(/^client:production\.[0-9a-f]{48}$/);
    const row = page.locator('tr[data-token]', { hasText: 'shop-from-dashboard' });
    await row.waitFor();
    expect(await row.textContent()).toContain(`${secret.slice(0, secret.indexOf('.') + 5)}…`);
    expect(await row.textContent()).not.toContain(secret);
    await screenshot(page, 'people-tokens-secret-once');
    await page.getByRole('button', { name: 'I have kept it' }).click();
    expect(await page.locator('#secret-once').count()).toBe(0);
    const features = () => fetch(`${w.t.url}/api/client/features`, { headers: { authorization: secret } }).then((r) => r.status);
    expect(await features()).toBe(200);

    await row.getByRole('button', { name: 'Revoke shop-from-dashboard' }).click();
    await confirmDialog(page, 'Revoke the token');
    await row.waitFor({ state: 'detached' });
    await expect.poll(features).toBe(401);
    const audit = (await w.t.api('GET', '/api/admin/audit?limit=1000')).body.events;
    const made = audit.find((e: any) => e.action === 'token.create' && e.after?.name === 'shop-from-dashboard');
    expect(made.actor).toMatchObject({ type: 'person', name: 'Alice Admin' });

    const viewer = await signInAs('vic');
    expect(await viewer.page.locator('#nav a[data-page="tokens"]').isHidden()).toBe(true);
  });

  it('signing out ends the session on the controller, not just in the tab', async () => {
    const { page, context } = await signInAs('vic');
    const secret = (await context.cookies(w.t.url)).find((c) => c.name === 'rollout-session')!.value;
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('link', { name: 'Sign in with your organisation' }).waitFor();
    expect((await context.cookies(w.t.url)).find((c) => c.name === 'rollout-session')).toBeUndefined();
    const after = await fetch(`${w.t.url}/api/admin/me`, { headers: { cookie: `rollout-session=${secret}` } });
    expect(after.status).toBe(401);
  });

  it('token sign-in stays: a pasted "Bearer …" works, and a client token is told what it is for', async () => {
    const { page, problems } = await openPage(browser, w.t.url);
    await page.goto('/');
    const client = await w.t.token({ kind: 'client', environment: 'production' });
    await page.getByLabel('Admin token').fill(client);
    await page.getByRole('button', { name: 'Sign in with the token' }).click();
    await page.locator('#signin-error').getByText('This is a client token, for server SDKs: sign in with an admin token.').waitFor();
    await screenshot(page, 'people-client-token-refused');

    await page.getByLabel('Admin token').fill(`  Bearer ${w.t.adminToken}  `);
    await page.getByRole('button', { name: 'Sign in with the token' }).click();
    await page.locator('#who').getByText('bootstrap admin · admin').waitFor();
    // The one refusal is the client token's, tried on purpose.
    expect(problems).toEqual(['console: Failed to load resource: the server responded with a status of 403 (Forbidden)']);
  });

  it('saw no console error, failed request or missing file on any page', () => {
    expect(opened.flatMap((o) => o.problems)).toEqual([]);
  });
});
