import { createHash } from 'node:crypto';
import type { Request, Response } from 'express';
import type { Reply } from '../http/route.js';

/**
 * JSON with a strong ETag: the dashboard polls every two seconds, and an unchanged answer then
 * costs a 304 with no body.
 */

export function strongEtag(content: string | Uint8Array): string {
  return `"${createHash('sha1').update(content).digest('base64url')}"`;
}

/** Sets the ETag; when the request already holds it, answers 304 and returns true. */
export function answeredNotModified(req: Request, res: Response, etag: string): boolean {
  res.setHeader('ETag', etag);
  res.setHeader('Cache-Control', 'private, no-cache');
  const ifNoneMatch = req.header('if-none-match');
  if (!ifNoneMatch || !ifNoneMatch.split(',').some((tag) => tag.trim() === etag)) return false;
  res.status(304).end();
  return true;
}

/**
 * `serverTime` rides in a header, not in the body, so it does not change the ETag; the browser
 * counts time in step on the controller's clock, not its own.
 */
export function etagJson(req: Request, res: Response, body: unknown, serverTime?: Date, etag?: string): Reply {
  if (serverTime) res.setHeader('X-Server-Time', String(serverTime.getTime()));
  const json = JSON.stringify(body);
  if (answeredNotModified(req, res, etag ?? strongEtag(json))) return undefined;
  res.status(200).type('application/json').send(json);
  return undefined;
}
