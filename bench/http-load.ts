import http from 'node:http';
import autocannon from 'autocannon';
import { processCpuSeconds } from './stack.js';

export interface LoadOptions {
  label: string;
  url: string;
  path: string;
  headers: Record<string, string>;
  connections: number;
  durationS: number;
  /** The status every response must have (anything else is counted as unexpected). */
  expectStatus: number;
  /** The server process, to report the share of a core it used during the run. */
  serverPid?: number;
}

export interface LoadResult {
  label: string;
  path: string;
  connections: number;
  durationS: number;
  requests: number;
  rps: number;
  /** Latency in ms (autocannon's histogram has 1 ms resolution for these values). */
  latency: { mean: number; p50: number; p90: number; p99: number; max: number };
  statusCodes: Record<string, number>;
  unexpected: number;
  errors: number;
  timeouts: number;
  /** Response body bytes per request as sent on the wire (after Content-Encoding). */
  bodyBytesPerRequest: number;
  throughputMBps: number;
  serverCpuPct?: number;
  loadGenCpuPct: number;
}

/** The headers the stock Node SDK sends on a features poll (plus Accept-Encoding as its fetch does). */
export function sdkHeaders(secret: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    Authorization: secret,
    'User-Agent': 'bench-app',
    'unleash-appname': 'bench-app',
    'unleash-instanceid': 'bench-instance-1',
    'unleash-sdk': 'unleash-node-sdk:6.12.1',
    'unleash-connection-id': '6f1b3a0e-3f5e-4d6a-9b1c-bench0000001',
    'Unleash-Client-Spec': '5.2.0',
    'unleash-interval': '15000',
    ...extra,
  };
}

/** One autocannon run at a fixed connection count (no pipelining: SDKs do one request at a time). */
export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const cpu0 = opts.serverPid === undefined ? undefined : processCpuSeconds(opts.serverPid);
  const self0 = process.cpuUsage();
  const t0 = performance.now();
  const result = await autocannon({
    url: `${opts.url}${opts.path}`,
    connections: opts.connections,
    pipelining: 1,
    duration: opts.durationS,
    headers: opts.headers,
    timeout: 10,
  });
  const wallS = (performance.now() - t0) / 1000;
  const self = process.cpuUsage(self0);
  const cpu1 = opts.serverPid === undefined ? undefined : processCpuSeconds(opts.serverPid);

  const statusCodes: Record<string, number> = {};
  for (const [code, stat] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = (stat as { count: number }).count;
  const total = Object.values(statusCodes).reduce((a, b) => a + b, 0);
  const expected = statusCodes[String(opts.expectStatus)] ?? 0;
  const durationS = result.duration || opts.durationS;
  // result.throughput.total counts the whole response (headers too); the body size is measured separately.
  return {
    label: opts.label,
    path: opts.path,
    connections: opts.connections,
    durationS: round(durationS, 2),
    requests: total,
    rps: Math.round(total / durationS),
    latency: {
      mean: round(result.latency.mean, 2),
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      max: result.latency.max,
    },
    statusCodes,
    unexpected: total - expected,
    errors: result.errors,
    timeouts: result.timeouts,
    bodyBytesPerRequest: 0,
    throughputMBps: round(result.throughput.total / durationS / 1e6, 1),
    serverCpuPct: cpu0 === undefined || cpu1 === undefined ? undefined : Math.round(((cpu1 - cpu0) / wallS) * 100),
    loadGenCpuPct: Math.round(((self.user + self.system) / 1e6 / wallS) * 100),
  };
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** One request with Node's http (which never decompresses): status, headers and the body bytes on the wire. */
export function fetchRaw(url: string, path: string, headers: Record<string, string>): Promise<{ status: number; headers: http.IncomingHttpHeaders; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${url}${path}`, { headers, agent: false }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => (bytes += chunk.length));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, bytes }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
  });
}
