import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { Mailer } from '../../src/notifications/mailer.js';
import { judgeAttempt, DEFAULT_RETRY_POLICY } from '../../src/notifications/retry-policy.js';
import { smtpSettingsOf, type SmtpSettings } from '../../src/notifications/smtp-config.js';
import { ritasKill } from './sample-events.js';
import { startSmtpServer, type TestSmtpServer } from './smtp-server.js';

/**
 * E-mail notifications delivered for real: nodemailer (through the Mailer the dispatcher uses) to
 * a real SMTP server started here, over STARTTLS, with a login; then the message as a person's mail
 * client would show it. And the SMTP settings as the controller reads them at start-up.
 */

const LOGIN = { user: 'rollouts', password: 'smtp-password-123' };
const event = ritasKill('errors <b>rising</b> & climbing');

describe('e-mail through a real SMTP server', () => {
  let smtp: TestSmtpServer;
  let settings: SmtpSettings;
  const mailer = (over: Partial<SmtpSettings> = {}) => new Mailer({ ...settings, ...over }, 5_000);

  beforeAll(async () => {
    smtp = await startSmtpServer(LOGIN);
    // The server's certificate is its own, self-signed: checked, it would be refused (see below).
    settings = smtpSettingsOf(
      loadConfig({
        SMTP_HOST: '127.0.0.1',
        SMTP_PORT: String(smtp.port),
        SMTP_USER: LOGIN.user,
        SMTP_PASSWORD: LOGIN.password,
        SMTP_FROM: 'Rollouts <rollouts@example.com>',
        SMTP_TLS_REJECT_UNAUTHORIZED: 'false',
      }),
    )!;
  });
  afterAll(async () => {
    await smtp?.close();
  });

  it('a kill reads at a glance: the subject says what happened; text and HTML bodies carry the reason, the rollout and the link', async () => {
    const result = await mailer().send(['oncall@example.com', 'release-team@example.com'], 'prod-mail', event, 1);
    expect(result).toEqual({ status: 250, answer: 'accepted' });
    expect(judgeAttempt(result, 1, DEFAULT_RETRY_POLICY, () => 0.5).kind).toBe('delivered');
    const [got] = await smtp.waitFor(1);
    expect(got!.secure).toBe(true);
    expect(got!.user).toBe(LOGIN.user);
    expect(got!.from).toBe('rollouts@example.com');
    expect(got!.to).toEqual(['oncall@example.com', 'release-team@example.com']);
    const { mail } = got!;
    expect(mail.subject).toBe('KILLED: checkout in production was switched off by Rita');
    expect(mail.messageId).toBe(`<${event.id}.prod-mail@example.com>`);
    expect(mail.headers.get('x-rollout-event-id')).toBe(event.id);
    expect(mail.headers.get('x-rollout-event')).toBe('flag.killed');
    expect(mail.text).toContain('- Reason: errors <b>rising</b> & climbing');
    expect(mail.text).toContain('- Rollout r-9 (standard) is running at 10%');
    expect(mail.text).toContain('Kill switch: on (served disabled)');
    expect(mail.text).toContain('Open the flag in the dashboard: https://rollouts.example.com/#/flags?q=checkout&env=production');
    const html = String(mail.html);
    // What people wrote is text in the HTML too, never markup.
    expect(html).toContain('<li>Reason: errors &lt;b&gt;rising&lt;/b&gt; &amp; climbing</li>');
    expect(html).toContain('<a href="https://rollouts.example.com/#/flags?q=checkout&amp;env=production">Open the flag in the dashboard</a>');
  });

  it('a wrong password is refused for good; a recipient refused (550) is named while the others get it; 451 is retried', async () => {
    const wrong = await mailer({ auth: { user: LOGIN.user, pass: 'not-the-password' } }).send(['oncall@example.com'], 'w', event, 1);
    expect(wrong).toMatchObject({ status: 535, answer: 'refused', error: expect.stringMatching(/^SMTP EAUTH: /) });
    expect(judgeAttempt(wrong, 1, DEFAULT_RETRY_POLICY, () => 0.5).kind).toBe('give-up');

    smtp.refuseRecipients(['gone@example.com']);
    const before = smtp.received.length;
    const partly = await mailer().send(['gone@example.com', 'oncall@example.com'], 'w', event, 1);
    expect(partly).toEqual({ status: 250, answer: 'accepted', error: 'refused for gone@example.com' });
    expect((await smtp.waitFor(before + 1)).at(-1)!.to).toEqual(['oncall@example.com']);
    const nobody = await mailer().send(['gone@example.com'], 'w', event, 1);
    expect(nobody).toMatchObject({ answer: 'refused' });
    smtp.refuseRecipients([]);

    smtp.busy(true);
    const later = await mailer().send(['oncall@example.com'], 'w', event, 1);
    smtp.busy(false);
    expect(later).toMatchObject({ status: 451, answer: 'unavailable' });
    expect(judgeAttempt(later, 1, DEFAULT_RETRY_POLICY, () => 0.5).kind).toBe('retry');
  });

  it('checks the server’s certificate unless told not to: a self-signed one is refused (and retried, not sent in the clear)', async () => {
    const before = smtp.received.length;
    const result = await mailer({ rejectUnauthorized: true }).send(['oncall@example.com'], 'w', event, 1);
    expect(result.answer).toBe('unavailable');
    expect(result.error).toMatch(/certificate/i);
    expect(smtp.received).toHaveLength(before);
  });
});

describe('SMTP settings at start-up: one line naming the variable', () => {
  const problem = (env: Record<string, string>) => {
    try {
      loadConfig(env);
      return 'accepted';
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return (err as Error).message;
    }
  };

  it.each([
    [{ SMTP_HOST: 'mail.example.com' }, /^invalid configuration: SMTP_FROM: required when SMTP_URL or SMTP_HOST is set/],
    [{ SMTP_FROM: 'rollouts@example.com' }, /^invalid configuration: SMTP_HOST: SMTP_FROM is set but neither SMTP_HOST nor SMTP_URL is$/],
    [{ SMTP_HOST: 'mail.example.com', SMTP_FROM: 'not an address' }, /^invalid configuration: SMTP_FROM: an e-mail address/],
    [{ SMTP_HOST: 'mail.example.com', SMTP_FROM: 'a@example.com', SMTP_PORT: '70000' }, /^invalid configuration: SMTP_PORT: /],
    [{ SMTP_HOST: 'mail.example.com', SMTP_FROM: 'a@example.com', SMTP_USER: 'u' }, /^invalid configuration: SMTP_PASSWORD: required with SMTP_USER$/],
    [{ SMTP_URL: 'http://mail.example.com', SMTP_FROM: 'a@example.com' }, /^invalid configuration: SMTP_URL: smtp:\/\//],
    [
      { SMTP_URL: 'smtp://mail.example.com', SMTP_HOST: 'mail.example.com', SMTP_FROM: 'a@example.com' },
      /^invalid configuration: SMTP_URL: give SMTP_URL or SMTP_HOST, not both$/,
    ],
    [{ SMTP_URL: 'smtp://mail.example.com', SMTP_USER: 'u', SMTP_FROM: 'a@example.com' }, /^invalid configuration: SMTP_USER: set with SMTP_HOST only/],
    [{ SMTP_HOST: 'mail.example.com', SMTP_FROM: 'a@example.com', SMTP_SECURE: 'maybe' }, /^invalid configuration: SMTP_SECURE: /],
  ])('%j', (env, message) => expect(problem(env)).toMatch(message));

  it('reads SMTP_URL and SMTP_HOST alike; the password never in the message of a refusal', () => {
    expect(smtpSettingsOf(loadConfig({ SMTP_URL: 'smtps://mailer:p%40ss@mail.example.com', SMTP_FROM: 'Rollouts <rollouts@example.com>' }))).toEqual({
      host: 'mail.example.com',
      port: 465,
      secure: true,
      auth: { user: 'mailer', pass: 'p@ss' },
      from: 'Rollouts <rollouts@example.com>',
      requireTLS: true,
      rejectUnauthorized: true,
    });
    expect(smtpSettingsOf(loadConfig({ SMTP_HOST: 'mail.example.com', SMTP_FROM: 'rollouts@example.com' }))).toMatchObject({ port: 587, secure: false });
    expect(smtpSettingsOf(loadConfig({}))).toBeUndefined();
    expect(problem({ SMTP_URL: 'smtp://u:hunter2-secret@mail.example.com', SMTP_HOST: 'x', SMTP_FROM: 'a@example.com' })).not.toContain('hunter2');
  });
});
