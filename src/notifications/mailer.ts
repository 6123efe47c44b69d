import nodemailer, { type Transporter } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport';
import type { NotificationEvent } from './events.js';
import { emailMessage } from './formats/email.js';
import type { MessageLanguage } from './message.js';
import type { AttemptResult } from './retry-policy.js';
import { ATTEMPT_HEADER, EVENT_ID_HEADER, EVENT_TYPE_HEADER } from './signature.js';
import type { SmtpSettings } from './smtp-config.js';

const MAX_ERROR_CHARS = 300;

/**
 * Sends notification e-mails through the operator's SMTP server (nodemailer). An attempt's result
 * reads like an HTTP one: the server's reply code as its status; a 5xx reply or a refused login is
 * for good, anything else (4xx, no connection, a timeout) is retried like a webhook.
 */
export class Mailer {
  private readonly transport: Transporter<SMTPTransport.SentMessageInfo>;

  constructor(
    private readonly settings: SmtpSettings,
    timeoutMs: number,
  ) {
    this.transport = nodemailer.createTransport({
      host: settings.host,
      port: settings.port,
      secure: settings.secure,
      requireTLS: !settings.secure && settings.requireTLS,
      ...(settings.auth ? { auth: settings.auth } : {}),
      tls: { rejectUnauthorized: settings.rejectUnauthorized },
      connectionTimeout: timeoutMs,
      greetingTimeout: timeoutMs,
      socketTimeout: timeoutMs,
      // Our messages are built from data: nothing in them may make nodemailer read a file or fetch a URL.
      disableFileAccess: true,
      disableUrlAccess: true,
      logger: false,
    });
  }

  async send(to: string[], webhookId: string, event: NotificationEvent, attempt: number, language: MessageLanguage = 'en'): Promise<AttemptResult> {
    const content = emailMessage(event, language);
    try {
      const info = await this.transport.sendMail({
        from: this.settings.from,
        to,
        ...content,
        // The same id on every attempt, as for webhooks: a mail client shows a repeat as one message.
        messageId: `<${event.id}.${webhookId}@${this.settings.from.replace(/^.*@/, '').replace(/>$/, '')}>`,
        headers: { [EVENT_ID_HEADER]: event.id, [EVENT_TYPE_HEADER]: event.type, [ATTEMPT_HEADER]: String(attempt) },
      });
      const status = replyCode(info.response) ?? 250;
      const rejected = info.rejected.map(String);
      if (info.accepted.length === 0) return { status, answer: 'refused', error: cut(`every recipient refused: ${rejected.join(', ')}`) };
      return { status, answer: 'accepted', ...(rejected.length ? { error: cut(`refused for ${rejected.join(', ')}`) } : {}) };
    } catch (err) {
      const e = err as { responseCode?: number; code?: string; message?: string };
      const permanent = (e.responseCode !== undefined && e.responseCode >= 500) || e.code === 'EAUTH' || e.code === 'EENVELOPE';
      return {
        ...(e.responseCode !== undefined ? { status: e.responseCode } : {}),
        answer: permanent ? 'refused' : 'unavailable',
        error: cut(`SMTP ${e.code ?? 'error'}: ${e.message ?? String(err)}`),
      };
    }
  }

  close(): void {
    this.transport.close();
  }
}

function replyCode(response: string | undefined): number | undefined {
  const code = /^(\d{3})/.exec(response ?? '')?.[1];
  return code ? Number(code) : undefined;
}

const cut = (text: string) => (text.length <= MAX_ERROR_CHARS ? text : `${text.slice(0, MAX_ERROR_CHARS - 1)}…`);
