import type { ServerResponse } from 'node:http';
import type { NextFunction, Request, Response } from 'express';

/**
 * Cross-origin access for the routes browsers call directly (the frontend API, OFREP). Any origin
 * may call them: the token travels in the Authorization header, never in a cookie, so a page on
 * another origin can do nothing with these routes that it could not do with the token itself.
 * Preflights are answered here; every other answer (errors and 429s included) carries the headers,
 * so the browser SDK can read them.
 */
const ALLOW_HEADERS = 'Authorization, X-API-Key, Content-Type, If-None-Match, Unleash-AppName, Unleash-SDK, Unleash-Connection-Id, Unleash-Client-Spec';
const EXPOSE_HEADERS = 'ETag, Retry-After';

/** The headers every answer to a browser route carries (also written by the frontend API's fast lane). */
export function setBrowserHeaders(res: ServerResponse): void {
  res.setHeader('Access-Control-Allow-Origin', '*');
  res.setHeader('Access-Control-Expose-Headers', EXPOSE_HEADERS);
}

export function allowBrowsers(req: Request, res: Response, next: NextFunction): void {
  setBrowserHeaders(res);
  if (req.method !== 'OPTIONS') {
    next();
    return;
  }
  res.setHeader('Access-Control-Allow-Methods', 'GET, POST, OPTIONS');
  res.setHeader('Access-Control-Allow-Headers', ALLOW_HEADERS);
  res.setHeader('Access-Control-Max-Age', '86400');
  res.status(204).end();
}
