import net from 'node:net';

export interface RawExchange {
  /** The answer's status, when one came. */
  status?: number;
  /** Everything the server sent. */
  text: string;
  /** The server ended the connection (rather than waiting for the rest of the body). */
  closedByServer: boolean;
  /** Time from the first byte sent to the answer's first byte (or to giving up). */
  ms: number;
  /** Time from the first byte sent to the connection's end (or to giving up). */
  closedMs: number;
}

/**
 * Sends a request over a plain socket: the head as given, then `body` (which may be only part of
 * what the head announces), and waits until the server answers and closes, or `waitMs` passes. An
 * HTTP client library would wait to finish sending before it reads; this does not.
 */
export function rawExchange(url: string, head: string, body: Buffer | string = '', waitMs = 3_000): Promise<RawExchange> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), hostname);
    const started = performance.now();
    let text = '';
    let answeredAt: number | undefined;
    let closedByServer = false;
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      const status = /^HTTP\/1\.1 (\d{3})/.exec(text)?.[1];
      const now = performance.now();
      resolve({ status: status ? Number(status) : undefined, text, closedByServer, ms: (answeredAt ?? now) - started, closedMs: now - started });
    };
    const timer = setTimeout(finish, waitMs);
    socket.on('data', (d) => {
      answeredAt ??= performance.now();
      text += d.toString('latin1');
    });
    // A reset after the answer (the server closed with unread bytes in flight) also ends the connection.
    socket.on('error', () => {
      closedByServer = true;
      finish();
    });
    socket.on('end', () => {
      closedByServer = true;
      finish();
    });
    socket.on('connect', () => {
      socket.write(head);
      if (body.length > 0) socket.write(body);
    });
  });
}

/** A request head: request line, headers, blank line. */
export function requestHead(method: string, route: string, headers: Record<string, string | number>): string {
  const lines = Object.entries({ Host: 'test', ...headers }).map(([name, value]) => `${name}: ${value}`);
  return `${method} ${route} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`;
}
