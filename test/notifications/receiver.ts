import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request a receiver got, with the status it answered. */
export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  /** The raw body, exactly as it arrived (what the signature covers). */
  body: string;
  status: number;
}

export interface Receiver {
  url: string;
  received: Received[];
  /** Changes how the following requests are answered. */
  answerWith(answer: (req: Omit<Received, 'status'>, earlier: Received[]) => number): void;
  /** Resolves once `predicate` holds over what was received (polled as requests arrive). */
  waitFor(predicate: (received: Received[]) => boolean, label: string, timeoutMs?: number): Promise<Received[]>;
  close(): Promise<void>;
}

/** A webhook receiver on 127.0.0.1: a real HTTP server that records every request and answers as told. */
export async function startReceiver(answer: (req: Omit<Received, 'status'>, earlier: Received[]) => number = () => 200): Promise<Receiver> {
  const received: Received[] = [];
  const watchers = new Set<() => void>();
  let current = answer;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const request = { path: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      const status = current(request, [...received]);
      received.push({ ...request, status });
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'not now');
      for (const watch of watchers) watch();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    answerWith(next) {
      current = next;
    },
    waitFor(predicate, label, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!predicate(received)) return;
          cleanup();
          resolve(received);
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(
            new Error(
              `receiver: timed out after ${timeoutMs} ms waiting for ${label}; got ${received.map((r) => `${r.headers['x-rollout-event']}→${r.status}`).join(', ')}`,
            ),
          );
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          watchers.delete(check);
        };
        watchers.add(check);
        check();
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The answer "500 to the first request of each event, 200 to every later one". */
export function failFirstAttempt(req: Omit<Received, 'status'>, earlier: Received[]): number {
  return earlier.some((r) => r.headers['x-rollout-event-id'] === req.headers['x-rollout-event-id']) ? 200 : 500;
}
