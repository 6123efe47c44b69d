import { execFileSync, spawn } from 'node:child_process';
import type { LoadOptions, LoadResult } from './http-load.js';
import { cpuFigures, machineBusySeconds } from './http-load.js';
import { processCpuSeconds } from './stack.js';

/**
 * wrk (C, one thread) as the load generator: it costs several times less CPU per request than
 * autocannon, so on a 2-core machine the server, not the harness, sets the ceiling.
 */
export function wrkVersion(): string | undefined {
  try {
    const out = execFileSync('wrk', ['-v'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return out.match(/wrk\s+([\d.]+)/)?.[1] ?? 'unknown';
  } catch (err) {
    // wrk -v prints its banner and exits 1.
    const out = `${(err as { stdout?: string }).stdout ?? ''}${(err as { stderr?: string }).stderr ?? ''}`;
    return /wrk/.test(out) ? (out.match(/wrk\s+([\d.]+)/)?.[1] ?? 'unknown') : undefined;
  }
}

function toMs(value: string): number {
  const m = value.match(/^([\d.]+)(us|ms|s|m)$/);
  if (!m) return Number.NaN;
  const n = Number(m[1]);
  return m[2] === 'us' ? n / 1000 : m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : n * 60_000;
}

export async function runWrk(opts: LoadOptions): Promise<LoadResult> {
  const args = ['-t1', `-c${opts.connections}`, `-d${opts.durationS}s`, '--latency', '--timeout', '10s'];
  for (const [name, value] of Object.entries(opts.headers)) args.push('-H', `${name}: ${value}`);
  if (opts.script) args.push('-s', opts.script.path);
  args.push(`${opts.url}${opts.path}`);
  if (opts.script) args.push('--', ...opts.script.args);
  const cpu0 = opts.serverPid === undefined ? undefined : processCpuSeconds(opts.serverPid);
  const machine0 = machineBusySeconds();
  const t0 = performance.now();
  const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  // wrk's own CPU is sampled while it runs (a child's /proc entry is gone once it has exited).
  let loadGenCpu = 0;
  const sampler = setInterval(() => (loadGenCpu = processCpuSeconds(child.pid!) ?? loadGenCpu), 100);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  clearInterval(sampler);
  const wallS = (performance.now() - t0) / 1000;
  if (code !== 0) throw new Error(`wrk exited with ${code}: ${out}`);
  const cpu1 = opts.serverPid === undefined ? undefined : processCpuSeconds(opts.serverPid);
  const machine1 = machineBusySeconds();

  const total = Number(out.match(/(\d+) requests in ([\d.]+)(\w+)/)?.[1] ?? 0);
  const durationS = toMs(`${out.match(/requests in ([\d.]+\w+)/)?.[1] ?? '0s'}`) / 1000 || opts.durationS;
  const pct = (p: string) => toMs(out.match(new RegExp(`^\\s+${p}%\\s+(\\S+)`, 'm'))?.[1] ?? '');
  const latencyLine = out.match(/Latency\s+(\S+)\s+(\S+)\s+(\S+)/);
  const bad = Number(out.match(/Non-2xx or 3xx responses: (\d+)/)?.[1] ?? 0);
  const socket = out.match(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/);
  const errors = socket ? Number(socket[1]) + Number(socket[2]) + Number(socket[3]) : 0;
  const timeouts = socket ? Number(socket[4]) : 0;
  const transfer = out.match(/Transfer\/sec:\s+([\d.]+)(\w+)/);
  const mbps = transfer ? Number(transfer[1]) * ({ B: 1e-6, KB: 1e-3, MB: 1, GB: 1e3 } as Record<string, number>)[transfer[2]!]! : 0;
  const serverCpu = cpu0 === undefined || cpu1 === undefined ? undefined : cpu1 - cpu0;
  const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;
  return {
    label: opts.label,
    path: opts.path,
    connections: opts.connections,
    durationS: round(durationS),
    requests: total,
    rps: Math.round(total / durationS),
    latency: {
      mean: round(toMs(latencyLine?.[1] ?? '')),
      p50: round(pct('50')),
      p90: round(pct('90')),
      p99: round(pct('99')),
      max: round(toMs(latencyLine?.[3] ?? '')),
    },
    // wrk does not break statuses down: every response that was not a non-2xx/3xx is counted as the expected one.
    statusCodes: { [String(opts.expectStatus)]: total - bad, ...(bad ? { other: bad } : {}) },
    unexpected: bad,
    errors,
    timeouts,
    bodyBytesPerRequest: 0,
    throughputMBps: round(mbps, 1),
    ...cpuFigures({
      requests: total,
      wallS,
      serverCpu,
      loadGenCpu,
      machineBusy: machine0 === undefined || machine1 === undefined ? undefined : machine1 - machine0,
    }),
  };
}
