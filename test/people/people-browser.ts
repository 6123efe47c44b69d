import type { Browser, Page } from 'playwright-core';
import { openPage, type WatchedPage } from '../ui/browser-helpers.js';
import type { PeopleWorld } from './people-world.js';

/**
 * People of the people world (people-world.ts) in real headless Chromium: each in a browser of
 * their own (own cookies), signing in through the OpenID Connect provider's own login form.
 */

/**
 * A fresh browser on the world's controller. The provider's development login page asks Google for
 * a font and the provider has no favicon: both are answered here, so that what the page watch
 * finds is the dashboard's.
 */
export async function freshPeoplePage(browser: Browser, w: PeopleWorld): Promise<WatchedPage> {
  const watched = await openPage(browser, w.t.url);
  await watched.context.route('https://fonts.googleapis.com/**', (route) => route.fulfill({ status: 200, contentType: 'text/css', body: '' }));
  await watched.context.route(`${w.provider.issuer}/favicon.ico`, (route) => route.fulfill({ status: 204 }));
  return watched;
}

/**
 * Opens the dashboard at `hash`, follows "Sign in with your organisation" to the provider, types
 * `login` into its form and waits until the dashboard names the person. `atLoginForm` runs on the
 * provider's page before the form is sent (to take its screenshot).
 */
export async function signInThroughForm(
  page: Page,
  w: PeopleWorld,
  login: string,
  options: { hash?: string; atLoginForm?: (page: Page) => Promise<unknown> } = {},
): Promise<void> {
  await page.goto(`/${options.hash ?? ''}`);
  await page.getByRole('link', { name: 'Sign in with your organisation' }).click();
  // The provider's own page now: not the dashboard's.
  await page.waitForURL((url) => url.origin === w.provider.issuer);
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill('any password');
  await options.atLoginForm?.(page);
  await page.getByRole('button', { name: 'Sign-in' }).click();
  await page.waitForURL((url) => url.origin === w.t.url);
  await page.locator('#who').getByText(/·/).waitFor();
}
