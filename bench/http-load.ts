import http from 'node:http';
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { processCpuSeconds } from './stack.js';
import { runWrk, wrkVersion } from './wrk-load.js';

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
  /** wrk only: a Lua script (-s) and the arguments after `--` that its init() receives. */
  script?: { path: string; args: string[] };
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
  /** Controller CPU time per response (µs), and the req/s that implies for one dedicated core. */
  serverCpuUsPerRequest?: number;
  projectedRpsPerCore?: number;
  /** CPU used by everything else on the machine (other processes, kernel softirq), in % of one core. */
  otherCpuPct?: number;
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

/** wrk when it is installed (it leaves the server, not the harness, as the limit), else autocannon. */
export const WRK_VERSION = wrkVersion();

export function loadGeneratorName(autocannonVersion: string): string {
  return WRK_VERSION ? `wrk ${WRK_VERSION} (one thread, a child of the bench process)` : `autocannon ${autocannonVersion} in the bench process`;
}

/** One run at a fixed connection count (no pipelining: SDKs do one request at a time). */
export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  return WRK_VERSION ? runWrk(opts) : runAutocannon(opts);
}

async function runAutocannon(opts: LoadOptions): Promise<LoadResult> {
  const cpu0 = opts.serverPid === undefined ? undefined : processCpuSeconds(opts.serverPid);
  const machine0 = machineBusySeconds();
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
  const machine1 = machineBusySeconds();
  const serverCpu = cpu0 === undefined || cpu1 === undefined ? undefined : cpu1 - cpu0;
  const selfCpu = (self.user + self.system) / 1e6;

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
    ...cpuFigures({
      requests: total,
      wallS,
      serverCpu,
      loadGenCpu: selfCpu,
      machineBusy: machine0 === undefined || machine1 === undefined ? undefined : machine1 - machine0,
    }),
  };
}

/** The CPU columns of a run, from CPU seconds measured around it (shared by both load generators). */
export function cpuFigures(m: { requests: number; wallS: number; serverCpu?: number; loadGenCpu: number; machineBusy?: number }) {
  const { requests, wallS, serverCpu, loadGenCpu, machineBusy } = m;
  return {
    serverCpuUsPerRequest: serverCpu === undefined || requests === 0 ? undefined : Math.round((serverCpu / requests) * 1e6),
    projectedRpsPerCore: serverCpu === undefined || serverCpu === 0 ? undefined : Math.round(requests / serverCpu),
    serverCpuPct: serverCpu === undefined ? undefined : Math.round((serverCpu / wallS) * 100),
    loadGenCpuPct: Math.round((loadGenCpu / wallS) * 100),
    otherCpuPct:
      machineBusy === undefined || serverCpu === undefined ? undefined : Math.max(0, Math.round(((machineBusy - serverCpu - loadGenCpu) / wallS) * 100)),
  };
}

/** Busy CPU seconds of the whole machine (all cores) from /proc/stat; undefined off Linux. */
export function machineBusySeconds(): number | undefined {
  try {
    const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
    const [user, nice, system, , , irq, softirq, steal] = fields.map(Number) as number[];
    return (user! + nice! + system! + irq! + softirq! + steal!) / 100;
  } catch {
    return undefined;
  }
}

/**
 * Waits (at most `maxWaitMs`) for a 1 s window in which the whole machine is nearly idle, so a run
 * does not start while something else (a test suite, a compiler) is using the cores.
 * Returns the busy share (% of one core) of the last window.
 */
export async function waitForQuiet(maxWaitMs: number, thresholdPct = 15): Promise<number | undefined> {
  const deadline = Date.now() + maxWaitMs;
  for (;;) {
    const b0 = machineBusySeconds();
    await new Promise((r) => setTimeout(r, 1000));
    const b1 = machineBusySeconds();
    if (b0 === undefined || b1 === undefined) return undefined;
    const busyPct = Math.round((b1 - b0) * 100);
    if (busyPct <= thresholdPct || Date.now() >= deadline) return busyPct;
  }
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** One request with Node's http (which never decompresses): status, headers and the body bytes on the wire. */
export function fetchRaw(
  url: string,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; bytes: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${url}${path}`, { headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, bytes: body.length, body });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
  });
}
