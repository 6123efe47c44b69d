import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Local stand-ins for the chat vendors' robot endpoints, written from the vendors' documentation:
 * each checks a request the way its vendor does (the signature recomputed from the robot's secret
 * and the request's timestamp, a timestamp more than an hour away refused, the key in the URL
 * compared) and answers in the vendor's own shape (HTTP 200 with an error code in the body for
 * DingTalk, Feishu and WeCom). What each accepted is kept, parsed, for the tests to read.
 */

export interface VendorReceiver {
  /** The robot's URL as the vendor would show it (with its token, key or sig). */
  url: string;
  /** Bodies accepted, parsed. */
  accepted: any[];
  /** Why requests were refused, in order. */
  refused: string[];
  /** Answer the next requests with this (rate limiting) instead of checking them. */
  overrideWith(answer: { status: number; body: object } | undefined): void;
  close(): Promise<void>;
}

type Verdict = { status: number; body: object; accepted?: any; refused?: string };
type Check = (req: { url: URL; body: string }) => Verdict;

/** The vendors allow a timestamp this far from their clock. */
const ONE_HOUR_MS = 3_600_000;

const sameText = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

async function serve(path: string, check: Check): Promise<VendorReceiver & { base: string }> {
  const accepted: any[] = [];
  const refused: string[] = [];
  let override: { status: number; body: object } | undefined;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const verdict: Verdict = override
        ? { ...override, refused: 'overridden' }
        : check({ url: new URL(req.url ?? '/', 'http://receiver'), body: Buffer.concat(chunks).toString('utf8') });
      if (verdict.refused) refused.push(verdict.refused);
      else accepted.push(verdict.accepted);
      res.writeHead(verdict.status, { 'content-type': 'application/json' }).end(JSON.stringify(verdict.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    url: `${base}${path}`,
    accepted,
    refused,
    overrideWith: (answer) => {
      override = answer;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** DingTalk: access_token in the URL; `timestamp` (ms) and `sign` = base64(HMAC-SHA256(secret, "<timestamp>\n<secret>")) in the query. */
export function dingtalkReceiver(accessToken: string, secret: string, now = () => Date.now()): Promise<VendorReceiver> {
  const refuse = (errcode: number, errmsg: string): Verdict => ({ status: 200, body: { errcode, errmsg }, refused: errmsg });
  return serve(`/robot/send?access_token=${accessToken}`, ({ url, body }) => {
    if (url.searchParams.get('access_token') !== accessToken) return refuse(300001, 'token is not exist');
    const timestamp = url.searchParams.get('timestamp') ?? '';
    const sign = url.searchParams.get('sign') ?? '';
    if (!/^\d+$/.test(timestamp) || Math.abs(now() - Number(timestamp)) > ONE_HOUR_MS) return refuse(310000, 'invalid timestamp');
    const expected = createHmac('sha256', secret).update(`${timestamp}\n${secret}`).digest('base64');
    if (!sameText(sign, expected)) return refuse(310000, 'sign not match');
    const message = JSON.parse(body);
    if (message.msgtype !== 'markdown' || typeof message.markdown?.title !== 'string' || typeof message.markdown?.text !== 'string')
      return refuse(40035, 'invalid markdown message');
    return { status: 200, body: { errcode: 0, errmsg: 'ok' }, accepted: message };
  });
}

/** Feishu: `timestamp` (s) and `sign` = base64(HMAC-SHA256(key "<timestamp>\n<secret>", empty message)) in the body. */
export function feishuReceiver(hookId: string, secret: string, now = () => Date.now()): Promise<VendorReceiver> {
  const refuse = (code: number, msg: string): Verdict => ({ status: 200, body: { code, msg, data: {} }, refused: msg });
  return serve(`/open-apis/bot/v2/hook/${hookId}`, ({ url, body }) => {
    if (url.pathname !== `/open-apis/bot/v2/hook/${hookId}`) return refuse(19001, 'param invalid: incoming webhook access token invalid');
    const message = JSON.parse(body);
    const timestamp = String(message.timestamp ?? '');
    const expected = createHmac('sha256', `${timestamp}\n${secret}`).update('').digest('base64');
    if (!/^\d+$/.test(timestamp) || Math.abs(now() - Number(timestamp) * 1000) > ONE_HOUR_MS || !sameText(String(message.sign ?? ''), expected))
      return refuse(19021, 'sign match fail or timestamp is not within one hour from current time');
    if (message.msg_type !== 'interactive' || message.card?.header?.title?.tag !== 'plain_text') return refuse(9499, 'Bad Request');
    return { status: 200, body: { code: 0, msg: 'success', data: {} }, accepted: message };
  });
}

/** WeCom: no signature; the `key` in the URL must be the robot's; markdown.content at most 4,096 bytes. */
export function wecomReceiver(key: string): Promise<VendorReceiver> {
  const refuse = (errcode: number, errmsg: string): Verdict => ({ status: 200, body: { errcode, errmsg }, refused: errmsg });
  return serve(`/cgi-bin/webhook/send?key=${key}`, ({ url, body }) => {
    if (url.searchParams.get('key') !== key) return refuse(93000, 'invalid webhook url');
    const message = JSON.parse(body);
    if (message.msgtype !== 'markdown' || typeof message.markdown?.content !== 'string') return refuse(40008, 'invalid message type');
    if (Buffer.byteLength(message.markdown.content) > 4096) return refuse(40058, 'markdown.content exceed max length 4096');
    return { status: 200, body: { errcode: 0, errmsg: 'ok' }, accepted: message };
  });
}

/** A Teams workflow: no signature; the `sig` in the URL is the credential; one Adaptive Card attachment. Accepts with 202, as workflows do. */
export function teamsReceiver(sig: string): Promise<VendorReceiver> {
  const refuse = (status: number, why: string): Verdict => ({
    status,
    body: { error: { code: 'DirectApiAuthorizationRequired', message: why } },
    refused: why,
  });
  return serve(`/workflows/0123456789abcdef/triggers/manual/paths/invoke?api-version=2016-06-01&sig=${sig}`, ({ url, body }) => {
    if (url.searchParams.get('sig') !== sig) return refuse(401, 'the signature is not valid');
    const message = JSON.parse(body);
    const card = message.attachments?.[0];
    if (message.type !== 'message' || card?.contentType !== 'application/vnd.microsoft.card.adaptive' || card.content?.type !== 'AdaptiveCard')
      return refuse(400, 'not an Adaptive Card message');
    return { status: 202, body: {}, accepted: message };
  });
}
