import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Transform } from 'node:stream';
import zlib from 'node:zlib';
import getRawBody from 'raw-body';
import { AppError } from '../errors/app-error.js';
import { LimitError } from '../errors/limit-error.js';
import { checkJsonShape } from '../validation/json-shape.js';
import { BODY_LIMIT_VARIABLE, BYTES_PER_VALUE, type BodyFamily, formatBytes, MAX_JSON_DEPTH } from './body-limits.js';

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json$/i;
/** A JSON parser's complaint quotes a little of the body; still, no message grows with the input. */
const MAX_PARSE_MESSAGE = 200;

const DECODERS: Record<string, (() => Transform) | undefined> = {
  gzip: () => zlib.createGunzip(),
  'x-gzip': () => zlib.createGunzip(),
  deflate: () => zlib.createInflate(),
  br: () => zlib.createBrotliDecompress(),
};

/** Whether the request says it carries a body (RFC 9112: a Transfer-Encoding, or a Content-Length above 0). */
export function hasBody(req: IncomingMessage): boolean {
  return req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0');
}

/** How long the rest of an unwanted body is read and dropped after the answer, before the connection is closed. */
export const UNREAD_BODY_LINGER_MS = 1_000;

/**
 * After an answer given before the request's body was read (a 401, a 403, a 413, a route that
 * takes none), the rest of the body is read and thrown away, never kept, for at most
 * UNREAD_BODY_LINGER_MS; a body still coming then has its connection closed. Closing at once
 * would make the kernel reset a connection with unread bytes, and the client could lose the
 * answer; reading on until the client finishes would let it hold the connection as long as it likes.
 */
export function dropUnreadBody(req: IncomingMessage, res: ServerResponse): void {
  if (!hasBody(req) || req.complete) return;
  res.once('finish', () => {
    if (req.complete) return;
    // Flowing with no reader: whatever still arrives is dropped (a reader stopped at the limit left it paused).
    req.resume();
    const timer = setTimeout(() => {
      if (!req.complete) req.socket.destroy();
    }, UNREAD_BODY_LINGER_MS);
    timer.unref();
    req.once('end', () => clearTimeout(timer));
  });
}

function isJson(req: IncomingMessage): boolean {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
  return JSON_TYPE.test(type);
}

function tooLarge(family: BodyFamily, limit: number): LimitError {
  const variable = BODY_LIMIT_VARIABLE[family];
  return new LimitError('too-large', 'body_too_large', `the body is larger than ${formatBytes(limit)}, the limit of this route (${variable})`, variable);
}

/**
 * Reads and parses a JSON body once the caller is authenticated, within the route family's limit:
 * a Content-Length over it is refused before a byte is read, and a body that streams past it
 * (chunked, or compressed) is refused as soon as it does, without reading the rest. Bodies of
 * another type are not read (undefined), as are absent ones. The parsed value is then held to a
 * budget of values and depth (body-limits.ts) before any schema sees it.
 */
export async function readJsonBody(req: IncomingMessage, family: BodyFamily, limit: number): Promise<unknown> {
  if (!hasBody(req) || !isJson(req)) return undefined;
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(family, limit);
  const charset = /;\s*charset\s*=\s*"?([\w-]+)/i.exec(req.headers['content-type'] ?? '')?.[1];
  if (charset && charset.toLowerCase() !== 'utf-8' && charset.toLowerCase() !== 'utf8') {
    throw new AppError('invalid', 'unsupported_charset', `a JSON body must be UTF-8, not ${charset.slice(0, 40)}`);
  }
  const text = await readText(req, family, limit);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new AppError('invalid', 'invalid_json', `invalid body: not valid JSON (${String((err as Error).message).slice(0, MAX_PARSE_MESSAGE)})`);
  }
  const problem = checkJsonShape(value, { maxValues: Math.floor(limit / BYTES_PER_VALUE), maxDepth: MAX_JSON_DEPTH });
  if (problem?.kind === 'values') {
    const variable = BODY_LIMIT_VARIABLE[family];
    throw new LimitError(
      'too-large',
      'body_too_large',
      `the body holds more than ${Math.floor(limit / BYTES_PER_VALUE)} JSON values, the most this route takes (one per ${BYTES_PER_VALUE} bytes of ${variable})`,
      variable,
    );
  }
  if (problem?.kind === 'depth') {
    throw new LimitError('invalid', 'body_too_deep', `invalid body: ${problem.path}: nested deeper than ${MAX_JSON_DEPTH} levels`, 'MAX_JSON_DEPTH');
  }
  return value;
}

async function readText(req: IncomingMessage, family: BodyFamily, limit: number): Promise<string> {
  const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
  const decoder = encoding === 'identity' ? undefined : DECODERS[encoding];
  if (encoding !== 'identity' && !decoder) {
    throw new AppError('invalid', 'unsupported_encoding', `unsupported Content-Encoding ${encoding.slice(0, 40)}: send identity, gzip, deflate or br`);
  }
  const stream = decoder?.();
  if (stream) req.pipe(stream);
  try {
    // The limit counts decoded bytes: a small compressed body cannot unpack past it.
    return await getRawBody(stream ?? req, { limit, length: stream ? null : req.headers['content-length'], encoding: 'utf-8' });
  } catch (err) {
    const e = err as { type?: string };
    if (e.type === 'entity.too.large') throw tooLarge(family, limit);
    if (e.type === 'request.aborted') throw new AppError('invalid', 'request_aborted', 'the client closed the request before its body ended');
    if (e.type === 'request.size.invalid') throw new AppError('invalid', 'invalid_body', 'the body is not as long as its Content-Length says');
    // Anything else the decoder raised: the bytes are not what Content-Encoding says.
    if (stream && e.type === undefined) throw new AppError('invalid', 'invalid_body', `the body is not valid ${encoding}`);
    throw err;
  } finally {
    if (stream) {
      req.unpipe(stream);
      stream.destroy();
    }
  }
}
