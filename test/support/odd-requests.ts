import { POLLUTION_MARKER } from './hostile-values.js';

/**
 * The hand-picked odd parts of requests the API probe sends to every operation: path segments,
 * query strings, headers and raw bodies that have confused routers, parsers and stores.
 */

/** Path segments, already encoded, that have confused routers and stores. */
export const ODD_PATH_VALUES = [
  '..',
  '.',
  '%2e%2e',
  '%2F',
  'a%2Fb',
  '..%2F..%2Fapi%2Fadmin%2Ftokens',
  '%00',
  'a%00b',
  '%',
  '%zz',
  '%E2%82',
  '%F0%9F%92%A5',
  '%C3%BC',
  'a'.repeat(5_000),
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  '%20',
  '~',
  ';',
  '*',
];

/** Query strings (appended raw) for one parameter name `p`; many are also tried with an unknown name. */
export const oddQueries = (p: string): string[] => [
  `__proto__[${POLLUTION_MARKER}]=yes`,
  `constructor[prototype][${POLLUTION_MARKER}]=yes`,
  `${p}[__proto__][${POLLUTION_MARKER}]=yes`,
  `${p}=`,
  `${p}[]=1&${p}[]=2`,
  `${p}[a]=1`,
  `${p}=%00`,
  `${p}=-1`,
  `${p}=1e309`,
  `${p}=0x10`,
  `${p}=NaN`,
  `${p}=${'9'.repeat(400)}`,
  `${p}=${'x'.repeat(8_000)}`,
  `${p}=%E2%82`,
  `${p}=%F0%9F%92%A5`,
  `${p}[100000]=x`,
  'a[b][c][d][e][f][g][h]=1',
  Array.from({ length: 1_500 }, (_, i) => `k${i}=1`).join('&'),
];

/** Headers the routes read (revisions, stream positions, SDK versions, request ids), with odd values. */
export const ODD_HEADERS: Array<Record<string, string>> = [
  { 'If-None-Match': '"99999999999999999999"' },
  { 'If-None-Match': 'W/"-1"' },
  { 'If-None-Match': `"${'1'.repeat(400)}", *, "x"` },
  { 'Last-Event-ID': '-1' },
  { 'Last-Event-ID': '1e400' },
  { 'Last-Event-ID': '99999999999999999999' },
  { 'Unleash-Client-Spec': '999999.0.0' },
  { 'Unleash-Client-Spec': 'not-a-version' },
  { 'Accept-Encoding': 'gzip;q=0, br, *;q=1000' },
  { 'X-Request-Id': 'r'.repeat(8_000) },
  { 'X-Api-Key': 'probe-not-a-token' },
  { Authorization: 'Bearer ' },
];

export const raw = (text: string | Buffer, contentType = 'application/json') => ({ body: Buffer.isBuffer(text) ? text : Buffer.from(text), contentType });

/** Raw bodies no schema of the document accepts (each is an object), so they may name the control set. */
export const UNACCEPTABLE_BODIES: Array<[string, ReturnType<typeof raw>]> = [
  ['malformed JSON', raw('{"reason": "x", ')],
  ['a JSON array at the root', raw('[{"reason":"x"}]')],
  ['a JSON string at the root', raw('"x"')],
  ['invalid UTF-8 in an array', raw(Buffer.from([0x5b, 0x22, 0xff, 0xfe, 0x22, 0x5d]))],
];

/** Raw bodies that may pass as valid where a schema has only optional fields. */
export const ODD_BODIES: Array<[string, ReturnType<typeof raw>]> = [
  ['an empty body with a JSON type', raw('')],
  ['JSON sent as text/plain', raw('{"reason":"x"}', 'text/plain')],
  ['a form body', raw('reason=x&__proto__[probePolluted]=yes', 'application/x-www-form-urlencoded')],
  ['only pollution keys', raw(`{"__proto__":{"${POLLUTION_MARKER}":"yes"},"constructor":{"prototype":{"${POLLUTION_MARKER}":"yes"}}}`)],
  ['10,000 levels of arrays', raw(`${'['.repeat(10_000)}${']'.repeat(10_000)}`)],
];
