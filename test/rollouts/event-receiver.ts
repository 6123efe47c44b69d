import { createServer, type Server } from 'node:http';
import type { TestController } from '../support/controller.js';
import { pollUntil } from './scenario-helpers.js';

/**
 * A JSON webhook receiver on 127.0.0.1 for scenario tests: registers itself as a webhook of the
 * controller for the given event types and keeps every event it is sent.
 */
export async function startEventReceiver(t: TestController, id: string, events: string[]) {
  const received: any[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      received.push(JSON.parse(body));
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const res = await t.api('PUT', `/api/admin/webhooks/${id}`, { url: `http://127.0.0.1:${port}/hook`, format: 'json', events });
  if (res.status >= 300) throw new Error(`webhook: ${res.status} ${JSON.stringify(res.body)}`);
  return {
    received,
    /** The first event of this type matching `where`, waited for. */
    waitFor: (type: string, where: (e: any) => boolean = () => true, timeoutMs = 5_000) =>
      pollUntil(
        async () => received.find((e) => e.type === type && where(e)),
        (e) => e !== undefined,
        `a ${type} event`,
        timeoutMs,
      ),
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
