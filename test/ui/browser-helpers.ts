import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/**
 * Real headless Chromium (Debian's /usr/bin/chromium, installed by scripts/ensure-tool.sh) driven
 * by playwright-core: no browser is downloaded. Every page is watched for console errors, failed
 * requests and uncaught exceptions, which would show a CSP refusal or a broken bundle.
 */

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SCREENSHOTS = path.resolve('test-results/screenshots');

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

export interface WatchedPage {
  page: Page;
  context: BrowserContext;
  /** Console errors, page errors and failed requests seen so far. */
  problems: string[];
}

/** A fresh context (its own sessionStorage) and page at `viewport`, watched for problems. */
export async function openPage(
  browser: Browser,
  baseUrl: string,
  options: { viewport?: { width: number; height: number }; colorScheme?: 'light' | 'dark' } = {},
): Promise<WatchedPage> {
  const context = await browser.newContext({
    viewport: options.viewport ?? { width: 1280, height: 900 },
    colorScheme: options.colorScheme ?? 'light',
    baseURL: baseUrl,
  });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('requestfailed', (req) => {
    // A poll cut short by leaving a page is not a problem; anything else is.
    if (req.failure()?.errorText !== 'net::ERR_ABORTED') problems.push(`request failed: ${req.url()} ${req.failure()?.errorText}`);
  });
  page.on('response', (res) => {
    // 4xx from the API are asserted by the tests themselves; a missing file of the page is a problem.
    if (res.status() >= 400 && !new URL(res.url()).pathname.startsWith('/api/')) problems.push(`HTTP ${res.status()} for ${res.url()}`);
  });
  return { page, context, problems };
}

export async function signIn(page: Page, secret: string): Promise<void> {
  await page.goto('/');
  await page.getByLabel('Admin token').fill(secret);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#who').getByText(/·/).waitFor();
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Confirms the open dialog, typing `text` into its comment or reason field first. */
export async function confirmDialog(page: Page, button: string, text?: string): Promise<void> {
  const dialog = page.getByRole('dialog');
  await dialog.waitFor();
  if (text !== undefined) await dialog.getByRole('textbox').fill(text);
  await dialog.getByRole('button', { name: button, exact: true }).click();
  await dialog.waitFor({ state: 'detached' });
}

/** Form fields without a label and buttons or links without a name: what a screen reader could not announce. */
export function unnamedControls(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const problems: string[] = [];
    for (const el of document.querySelectorAll<HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>('input, select, textarea')) {
      if (el.labels?.length === 0 && !el.getAttribute('aria-label')) problems.push(`${el.tagName.toLowerCase()}#${el.id} has no label`);
    }
    for (const el of document.querySelectorAll<HTMLElement>('button, a[href]')) {
      if (!(el.textContent ?? '').trim() && !el.getAttribute('aria-label'))
        problems.push(`${el.tagName.toLowerCase()} without a name: ${el.outerHTML.slice(0, 80)}`);
    }
    return problems;
  });
}
