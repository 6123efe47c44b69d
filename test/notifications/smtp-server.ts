import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/**
 * A real SMTP server on 127.0.0.1 for the tests (the smtp-server package): STARTTLS with its own
 * self-signed certificate, a login, and every message kept, parsed (mailparser), with its envelope.
 */

export interface ReceivedMail {
  from: string;
  to: string[];
  /** Whether the session was encrypted (STARTTLS) when the message came. */
  secure: boolean;
  user: string | undefined;
  mail: ParsedMail;
}

export interface TestSmtpServer {
  port: number;
  received: ReceivedMail[];
  /** Refuse these recipients (550), or every message for now (451). */
  refuseRecipients(addresses: string[]): void;
  busy(on: boolean): void;
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedMail[]>;
  close(): Promise<void>;
}

export async function startSmtpServer(login: { user: string; password: string }): Promise<TestSmtpServer> {
  const received: ReceivedMail[] = [];
  let refused = new Set<string>();
  let busy = false;
  const server = new SMTPServer({
    logger: false,
    banner: 'test server',
    authMethods: ['PLAIN', 'LOGIN'],
    onAuth(auth, _session, callback) {
      if (auth.username === login.user && auth.password === login.password) return callback(null, { user: auth.username });
      callback(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
    },
    onRcptTo(address, _session, callback) {
      if (refused.has(address.address)) return callback(Object.assign(new Error(`${address.address}: no such mailbox`), { responseCode: 550 }));
      callback();
    },
    onData(stream, session, callback) {
      simpleParser(stream).then(
        (mail) => {
          if (busy) return callback(Object.assign(new Error('try again later'), { responseCode: 451 }));
          received.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            secure: session.secure,
            user: session.user as string | undefined,
            mail,
          });
          callback();
        },
        (err) => callback(err),
      );
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    received,
    refuseRecipients: (addresses) => {
      refused = new Set(addresses);
    },
    busy: (on) => {
      busy = on;
    },
    async waitFor(count, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (received.length < count) {
        if (Date.now() > deadline) throw new Error(`SMTP server: ${received.length} of ${count} messages after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 20));
      }
      return received;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
