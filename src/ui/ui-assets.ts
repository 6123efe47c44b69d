import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Response } from 'express';
// esbuild comes with tsx, which runs the controller: no extra dependency, and no build step to forget.
import { build } from 'esbuild';
import { z } from 'zod';
import { AppError } from '../errors/app-error.js';
import { defineRoute, type RouteSpec } from '../http/route.js';
import { answeredNotModified, strongEtag } from './etag-json.js';

/**
 * The dashboard's files: one HTML page, one stylesheet, an icon and one script bundled from
 * src/ui/client/*.ts on first request (esbuild takes a few tens of milliseconds) and then kept in
 * memory. Everything comes from this server: the page loads nothing from elsewhere, and its
 * Content-Security-Policy would refuse it if it tried.
 */

const here = path.dirname(fileURLToPath(import.meta.url));
// Compiled into dist/, this file sits apart from the browser sources, which stay under src/ui.
const UI_DIR = [here, path.resolve(here, '../../src/ui')].find((dir) => existsSync(path.join(dir, 'static', 'index.html'))) ?? here;

/** No inline script or style anywhere, no framing, nothing loaded from another origin. */
export const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=()',
};

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

const FILES = ['app.js', 'app.css', 'icon.svg'] as const;
type FileName = (typeof FILES)[number] | 'index.html';

async function staticAsset(name: string, type: string): Promise<Asset> {
  const body = await readFile(path.join(UI_DIR, 'static', name));
  return { body, type, etag: strongEtag(body) };
}

async function bundleScript(): Promise<Asset> {
  const entry = ['main.ts', 'main.js'].map((f) => path.join(UI_DIR, 'client', f)).find((f) => existsSync(f));
  if (!entry) throw new Error(`no dashboard script under ${path.join(UI_DIR, 'client')}`);
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    legalComments: 'none',
    logLevel: 'silent',
  });
  const body = Buffer.from(result.outputFiles[0]!.contents);
  return { body, type: 'text/javascript; charset=utf-8', etag: strongEtag(body) };
}

async function loadAssets(): Promise<Record<FileName, Asset>> {
  const [html, js, css, icon] = await Promise.all([
    staticAsset('index.html', 'text/html; charset=utf-8'),
    bundleScript(),
    staticAsset('app.css', 'text/css; charset=utf-8'),
    staticAsset('icon.svg', 'image/svg+xml'),
  ]);
  return { 'index.html': html, 'app.js': js, 'app.css': css, 'icon.svg': icon };
}

let loading: Promise<Record<FileName, Asset>> | undefined;
/** Built once per process; a failed build is retried on the next request rather than cached. */
function assets(): Promise<Record<FileName, Asset>> {
  loading ??= loadAssets().catch((err: unknown) => {
    loading = undefined;
    throw new AppError('internal', 'dashboard_unavailable', `the dashboard could not be built: ${(err as Error).message}`);
  });
  return loading;
}

async function send(req: Parameters<typeof answeredNotModified>[0], res: Response, name: FileName): Promise<undefined> {
  const asset = (await assets())[name];
  for (const [header, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(header, value);
  if (answeredNotModified(req, res, asset.etag)) return undefined;
  // Revalidated on every load (a 304 is cheap), so a new release is picked up at once.
  res.setHeader('Cache-Control', 'no-cache');
  res.status(200).type(asset.type).send(asset.body);
  return undefined;
}

export function uiAssetRoutes(): RouteSpec[] {
  return [
    defineRoute({
      method: 'get',
      path: '/',
      summary: 'The dashboard (sign in with an admin token).',
      tag: 'Dashboard',
      auth: { kind: 'none' },
      responses: { 200: { description: 'The dashboard page', contentType: 'text/html' } },
      handler: ({ req, res }) => send(req, res, 'index.html'),
    }),
    defineRoute({
      method: 'get',
      path: '/ui/{file}',
      summary: 'The dashboard’s script, stylesheet and icon.',
      tag: 'Dashboard',
      auth: { kind: 'none' },
      params: z.object({ file: z.enum(FILES) }),
      responses: { 200: { description: 'The file' }, 400: { description: 'Not a dashboard file' } },
      handler: ({ req, res, params }) => send(req, res, params.file),
    }),
  ];
}
