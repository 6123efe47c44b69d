import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';

/**
 * A response body serialised once per change and served many times: the JSON bytes, their gzip
 * (SDKs ask for gzip, and it is most of the win at 200 flags), and a strong ETag per encoding.
 */
export interface RenderedPayload {
  json: Buffer;
  gzip: Buffer;
  /** Strong ETag of the identity encoding; the gzip encoding's is the same with a "-gzip" suffix. */
  etag: string;
  gzipEtag: string;
  /** The hash both ETags share; If-None-Match is compared on it, whatever the encoding. */
  tag: string;
}

export function renderPayload(value: unknown): RenderedPayload {
  const json = Buffer.from(JSON.stringify(value));
  const tag = createHash('sha256').update(json).digest('base64url').slice(0, 27);
  return { json, gzip: gzipSync(json, { level: 6 }), etag: `"${tag}"`, gzipEtag: `"${tag}-gzip"`, tag };
}

/** True when any entity tag in an If-None-Match header names this payload (weak or strong, either encoding). */
export function matchesIfNoneMatch(header: string | undefined, tag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((raw) => {
    const t = raw.trim().replace(/^W\//, '').replace(/^"|"$/g, '');
    return t === tag || t === `${tag}-gzip`;
  });
}
