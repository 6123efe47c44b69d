import type { Response } from 'express';
import { SECURITY_HEADERS } from '../ui/ui-assets.js';

/**
 * The pages sign-in shows when it cannot go on (the provider refused, the person has no role, the
 * sign-in took too long): a browser is on the other end of /auth/login and /auth/callback, not a
 * script, so it gets a page that says what happened and how to go on, with the dashboard's own
 * stylesheet and the same security headers (no script at all).
 */
export function sendAuthPage(res: Response, status: number, page: { title: string; message: string; detail?: string }): undefined {
  for (const [header, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(header, value);
  res.setHeader('Cache-Control', 'no-store');
  const detail = page.detail ? `\n    <p>${escapeHtml(page.detail)}</p>` : '';
  res
    .status(status)
    .type('text/html; charset=utf-8')
    .send(`<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${escapeHtml(page.title)} · Rollout controller</title>
  <link rel="stylesheet" href="/ui/app.css">
</head>
<body>
  <main id="main">
    <section class="card signin" aria-labelledby="auth-title">
    <h1 id="auth-title">${escapeHtml(page.title)}</h1>
    <p class="error-text" role="alert">${escapeHtml(page.message)}</p>${detail}
    <p><a href="/">Back to sign-in</a></p>
    </section>
  </main>
</body>
</html>
`);
  return undefined;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
