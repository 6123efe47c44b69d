import { afterEach, describe, expect, it } from 'vitest';
import { decide } from '../../src/rollouts/decide.js';
import { sendWebhook, type HttpWebhook, type SendOptions } from '../../src/notifications/delivery.js';
import { deriveEvents, type NotificationEvent, type RolloutEvent } from '../../src/notifications/events.js';
import { escapeMarkdown } from '../../src/notifications/formats/markdown.js';
import { withLinks } from '../../src/notifications/links.js';
import { judgeAttempt, DEFAULT_RETRY_POLICY } from '../../src/notifications/retry-policy.js';
import { analysis, at, BREACHING, expectDecided, iso, MINUTE, rollout } from '../unit/decide-fixtures.js';
import { PUBLIC_URL, ritasKill } from './sample-events.js';
import { dingtalkReceiver, feishuReceiver, teamsReceiver, wecomReceiver, type VendorReceiver } from './vendor-receivers.js';

/**
 * Each chat format sent for real (sendWebhook, the dispatcher's own HTTP delivery) to a local
 * receiver that checks it the way its vendor does: DingTalk's and Feishu's signatures recomputed
 * from the robot's secret and the request's timestamp (and refused an hour away), WeCom's key and a
 * Teams workflow's sig compared. Then what arrived is read as a person would.
 */

const HOUR_MS = 3_600_000;
const receivers: VendorReceiver[] = [];
const track = async (r: Promise<VendorReceiver>) => {
  const started = await r;
  receivers.push(started);
  return started;
};
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});

const options = (offsetMs = 0): SendOptions => ({
  now: () => new Date(Date.now() + offsetMs),
  timeoutMs: 3_000,
  signal: new AbortController().signal,
  userAgent: 'formats-test',
  allowPrivateNetworks: true,
});
const send = (webhook: HttpWebhook, event: NotificationEvent = kill, offsetMs = 0) => sendWebhook(webhook, event, 1, options(offsetMs));
const verdictOf = (result: Awaited<ReturnType<typeof send>>) => judgeAttempt(result, 1, DEFAULT_RETRY_POLICY, () => 0.5).kind;

/** A person's kill, with a reason that tries to smuggle markup into the message. */
const kill = ritasKill('errors rising, see [runbook](http://evil.example) <b>now</b>');
const TITLE = 'KILLED: checkout in production was switched off by Rita';
const FLAG_LINK = `${PUBLIC_URL}/#/flags?q=checkout&env=production`;

/** A rollback whose breach list is far longer than any chat message should be. */
function longRollback(): RolloutEvent {
  const before = rollout({ breachingSince: [iso(10 * MINUTE)] });
  const event = deriveEvents(before, expectDecided(decide(before, analysis(BREACHING), at(15 * MINUTE))).next)[0]! as Extract<
    RolloutEvent,
    { type: 'rollout.rolled_back' }
  >;
  return withLinks({ ...event, details: { ...event.details, breaches: Array.from({ length: 300 }, () => event.details.breaches[0]!) } }, PUBLIC_URL);
}

describe('DingTalk custom robot', () => {
  const secret = 'SEC0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd';

  it('a markdown message signed with timestamp and sign in the URL; people’s text escaped, numbers and link readable', async () => {
    const robot = await track(dingtalkReceiver('token-1', secret));
    const result = await send({ format: 'dingtalk', url: robot.url, secret });
    expect(result).toEqual({ status: 200, answer: 'accepted' });
    expect(verdictOf(result)).toBe('delivered');
    const [message] = robot.accepted;
    expect(message.markdown.title).toBe(TITLE);
    const text: string = message.markdown.text;
    expect(text.split('\n')[0]).toBe(`#### ${TITLE}`);
    expect(text).toContain(`- Reason: ${escapeMarkdown('errors rising, see [runbook](http://evil.example) <b>now</b>')}`);
    expect(text).toContain('\\[runbook\\](http://evil.example) \\<b>now\\</b>');
    expect(text).toContain('- Rollout r-9 (standard) is running at 10%');
    expect(text).toContain('**Kill switch:** on (served disabled)');
    expect(text).toContain(`[Open the flag in the dashboard](${FLAG_LINK})`);
  });

  it('refused as DingTalk refuses it: another secret, a timestamp more than an hour off; accepted 59 minutes off', async () => {
    const robot = await track(dingtalkReceiver('token-1', secret));
    const wrong = await send({ format: 'dingtalk', url: robot.url, secret: `${secret.slice(0, -1)}0` });
    expect(wrong).toEqual({ status: 200, answer: 'refused', error: 'DingTalk answered code 310000: sign not match' });
    expect(verdictOf(wrong)).toBe('give-up');
    const stale = await send({ format: 'dingtalk', url: robot.url, secret }, kill, -2 * HOUR_MS);
    expect(stale).toMatchObject({ answer: 'refused', error: 'DingTalk answered code 310000: invalid timestamp' });
    expect(await send({ format: 'dingtalk', url: robot.url, secret }, kill, -59 * 60_000)).toMatchObject({ answer: 'accepted' });
    expect(robot.refused).toEqual(['sign not match', 'invalid timestamp']);
  });

  it('over the robot’s rate limit (20 a minute): retried later, not given up', async () => {
    const robot = await track(dingtalkReceiver('token-1', secret));
    robot.overrideWith({ status: 200, body: { errcode: 130101, errmsg: 'send too fast, exceed 20 times per minute' } });
    const result = await send({ format: 'dingtalk', url: robot.url, secret });
    expect(result).toMatchObject({ answer: 'unavailable', error: 'DingTalk answered code 130101: send too fast, exceed 20 times per minute' });
    expect(verdictOf(result)).toBe('retry');
  });
});

describe('Feishu/Lark custom bot', () => {
  const secret = 'kkjH8XQ8dYYhcGxXtqMgvd';

  it('an interactive card in plain text, signed with timestamp and sign in the body', async () => {
    const bot = await track(feishuReceiver('f19d0c8e-1b2a', secret));
    const result = await send({ format: 'feishu', url: bot.url, secret });
    expect(result).toEqual({ status: 200, answer: 'accepted' });
    const [message] = bot.accepted;
    expect(message.card.header).toEqual({ title: { tag: 'plain_text', content: TITLE }, template: 'red' });
    const [lines, facts, action, note] = message.card.elements;
    // Plain text: the reason arrives exactly as written, with nothing to escape.
    expect(lines.text).toEqual({
      tag: 'plain_text',
      content: '• Reason: errors rising, see [runbook](http://evil.example) <b>now</b>\n• Rollout r-9 (standard) is running at 10%',
    });
    expect(facts.fields.map((f: any) => f.text.content)).toEqual([
      'Flag: checkout',
      'Environment: production',
      'Kill switch: on (served disabled)',
      'By: Rita',
    ]);
    expect(action.actions[0]).toMatchObject({ tag: 'button', url: FLAG_LINK, text: { content: 'Open the flag in the dashboard' } });
    expect(note.elements[0].content).toContain(`flag.killed · flag checkout · 2026-03-02T10:00:00.000Z · ${kill.id}`);
  });

  it('refused as Feishu refuses it: another secret, or a timestamp more than an hour off', async () => {
    const bot = await track(feishuReceiver('f19d0c8e-1b2a', secret));
    const wrong = await send({ format: 'feishu', url: bot.url, secret: 'another-secret-of-22ch' });
    expect(wrong).toEqual({
      status: 200,
      answer: 'refused',
      error: 'Feishu answered code 19021: sign match fail or timestamp is not within one hour from current time',
    });
    expect(verdictOf(wrong)).toBe('give-up');
    expect(await send({ format: 'feishu', url: bot.url, secret }, kill, 2 * HOUR_MS)).toMatchObject({ answer: 'refused' });
    expect(await send({ format: 'feishu', url: bot.url, secret }, kill, 59 * 60_000)).toMatchObject({ answer: 'accepted' });
  });
});

describe('WeCom group robot', () => {
  it('a markdown message with its colour; the key in the URL is the only credential', async () => {
    const robot = await track(wecomReceiver('693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa'));
    const result = await send({ format: 'wecom', url: robot.url });
    expect(result).toEqual({ status: 200, answer: 'accepted' });
    const content: string = robot.accepted[0].markdown.content;
    expect(content.split('\n')[0]).toBe(`### <font color="warning">${TITLE}</font>`);
    expect(content).toContain('\\[runbook\\](http://evil.example) \\<b>now\\</b>');
    expect(content).toContain(`[Open the flag in the dashboard](${FLAG_LINK})`);
    const wrongKey = await send({ format: 'wecom', url: robot.url.replace('5aaa', '5aab') });
    expect(wrongKey).toEqual({ status: 200, answer: 'refused', error: 'WeCom answered code 93000: invalid webhook url' });
  });

  it('a long message fits in WeCom’s 4,096 bytes: detail lines dropped with a count, the title, facts and link kept', async () => {
    const robot = await track(wecomReceiver('k1'));
    expect(await send({ format: 'wecom', url: robot.url }, longRollback())).toMatchObject({ answer: 'accepted' });
    const content: string = robot.accepted[0].markdown.content;
    expect(Buffer.byteLength(content)).toBeLessThanOrEqual(4096);
    expect(content).toMatch(/- … and \d+ more \(see the dashboard\)/);
    expect(content).toContain('**Step:** 1% (rolled_back)');
    expect(content).toContain(`(${PUBLIC_URL}/#/rollouts/r-1)`);
  });
});

describe('Microsoft Teams workflow', () => {
  it('an Adaptive Card message; accepted with 202; the workflow’s sig is the credential (Teams has no HMAC)', async () => {
    const workflow = await track(teamsReceiver('sig-0123456789abcdef'));
    const result = await send({ format: 'teams', url: workflow.url });
    expect(result).toEqual({ status: 202 });
    expect(verdictOf(result)).toBe('delivered');
    const card = workflow.accepted[0].attachments[0].content;
    expect(card).toMatchObject({ type: 'AdaptiveCard', version: '1.4' });
    const texts = card.body.map((block: any) => block.inlines.map((run: any) => run.text).join(''));
    expect(texts[0]).toBe(TITLE);
    expect(card.body[0].inlines[0]).toMatchObject({ type: 'TextRun', weight: 'Bolder', color: 'Attention' });
    // TextRuns are shown as written: the reason needs no escaping.
    expect(texts).toContain('• Reason: errors rising, see [runbook](http://evil.example) <b>now</b>');
    expect(texts).toContain('Kill switch: on (served disabled)');
    expect(card.actions).toEqual([
      { type: 'Action.OpenUrl', title: 'Open the flag in the dashboard', url: FLAG_LINK },
      { type: 'Action.OpenUrl', title: 'Open the rollout in the dashboard', url: `${PUBLIC_URL}/#/rollouts/r-9` },
    ]);
    const wrong = await send({ format: 'teams', url: workflow.url.replace('sig-0123', 'sig-9999') });
    expect(wrong).toEqual({ status: 401 });
    expect(judgeAttempt(wrong, 1, DEFAULT_RETRY_POLICY, () => 0.5)).toEqual({ kind: 'give-up', reason: 'refused with HTTP 401' });
  });
});

describe('markdown escaping', () => {
  it.each([
    ['[click](http://evil)', '\\[click\\](http://evil)'],
    ['<font color="info">fake</font>', '\\<font color="info">fake\\</font>'],
    ['*bold* and `code`', '\\*bold\\* and \\`code\\`'],
    ['error_rate(treatment) > 5% and <= 1%', 'error_rate(treatment) > 5% and <= 1%'],
    ['_emphasis_ here', '\\_emphasis\\_ here'],
    ['two\nlines', 'two lines'],
  ])('%j → %j', (text, escaped) => expect(escapeMarkdown(text)).toBe(escaped));
});
