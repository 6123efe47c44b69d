/**
 * The Unleash Proxy (npm @unleash/proxy, the open-source frontend API server on the stock Node SDK)
 * as a process of its own, for the side-by-side evaluation bench: its SDK polls the controller's
 * client API (GET {upstream}/client/features with a client token), so it serves the very flags the
 * controller serves, and it answers GET /proxy (its frontend API) for the key it is given.
 *
 * Started by evaluation-load.ts: `node --import tsx bench/unleash-proxy.ts` with UPSTREAM_URL,
 * UPSTREAM_TOKEN and CLIENT_KEY in the environment; prints its port on stdout once listening
 * (readiness, i.e. the first fetch of the flags, is polled on /proxy/health by the parent).
 */
import { createApp } from '@unleash/proxy';
import type { LogLevel } from '@unleash/proxy/dist/logger.js';

const { UPSTREAM_URL, UPSTREAM_TOKEN, CLIENT_KEY } = process.env;
if (!UPSTREAM_URL || !UPSTREAM_TOKEN || !CLIENT_KEY) throw new Error('UPSTREAM_URL, UPSTREAM_TOKEN and CLIENT_KEY are required');

const app = createApp({
  unleashUrl: UPSTREAM_URL,
  unleashApiToken: UPSTREAM_TOKEN,
  unleashAppName: 'bench-unleash-proxy',
  clientKeys: [CLIENT_KEY],
  // The flags do not change during the run: poll rarely, so polls do not land in a measured run.
  refreshInterval: 60_000,
  metricsInterval: 60_000,
  logLevel: 'warn' as LogLevel,
  enableOAS: false,
});
const server = app.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${typeof address === 'object' && address ? address.port : 0}\n`);
});
server.keepAliveTimeout = 65_000;
process.on('SIGTERM', () => process.exit(0));
