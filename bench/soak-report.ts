import { percentiles, type Percentiles } from './kill-latency.js';
import type { Check } from './report.js';
import type { DeliveryTally } from './soak-deliveries.js';
import type { PollMinute } from './soak-polls.js';
import type { Sample } from './soak-samples.js';
import type { Timed } from './soak-changes.js';

/**
 * The soak's verdicts and per-minute tables, computed from what the run collected (pure), and
 * rendered as bench/reports/soak-latest.md. Memory is judged on the replicas' resident size: the
 * median of the first minute after warm-up against the median of the last minute.
 */
export const MEMORY_GROWTH_LIMIT_PCT = 10;
export const KILL_P99_TARGET_MS = 100;

export interface SoakOptions {
  minutes: number;
  streams: number;
  rps: number;
  rollouts: number;
  replicas: number;
  warmupMinutes: number;
  killEverySeconds: number;
  stepSeconds: number;
  analysisSeconds: number;
  pollConnections: number;
  sampleSeconds: number;
  pin: boolean;
}

export interface MemoryVerdict {
  replica: number;
  baselineMiB: number;
  endMiB: number;
  growthPct: number;
  peakMiB: number;
  /** Least-squares slope of the resident size after warm-up (when that spans five minutes or more). */
  slopeMiBPerHour?: number;
  /** V8 heap in use (from /metrics), same windows: a leak of objects shows here first. */
  heapBaselineMiB?: number;
  heapEndMiB?: number;
  pass: boolean;
}

export interface MinuteRow {
  minute: number;
  poll?: PollMinute;
  kill: Percentiles & { missed: number };
  rollout: Percentiles & { missed: number };
  killPostP99: number;
  failedCalls: number;
  cpuPct: { replicas: number[]; redis?: number; bench?: number; machine?: number };
  rssMiB: number[];
  /** Per replica, the longest event-loop stall seen in the minute (from /metrics). */
  loopLagMaxMs: number[];
  /** During the minute, all replicas together (from /metrics): commits refused by compare-and-set, GC time (ms) and collections over 10 ms. */
  storeConflicts: number;
  gcMs: number;
  gcPausesOver10ms: number;
  openStreams: number;
}

export interface SoakRun {
  options: SoakOptions;
  startedAt: number;
  endedAt: number;
  samples: Sample[];
  polls: PollMinute[];
  tally: DeliveryTally;
  changes: { kill: number; rollout: number };
  kills: Timed[];
  outcomes: Timed[];
  rolloutStarts: Timed[];
}

const median = (xs: number[]) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : s[Math.floor((s.length - 1) / 2)]!;
};
const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d;

export function memoryVerdicts(samples: Sample[], warmupS: number, endS: number): MemoryVerdict[] {
  const replicas = samples[0]?.rssMiB.length ?? 0;
  // A series after warm-up, its median over the first minute of it, and over the last minute of the run.
  const series = (pick: (s: Sample) => number) =>
    samples
      .filter((s) => s.t >= warmupS)
      .map((s) => [s.t, pick(s)] as const)
      .filter(([, v]) => Number.isFinite(v));
  const firstAndLast = (points: ReadonlyArray<readonly [number, number]>) =>
    [median(points.filter(([t]) => t < warmupS + 60).map(([, v]) => v)), median(points.filter(([t]) => t >= endS - 60).map(([, v]) => v))] as const;
  return Array.from({ length: replicas }, (_, replica) => {
    const after = series((s) => s.rssMiB[replica]!);
    const [baselineMiB, endMiB] = firstAndLast(after);
    const [heapBaselineMiB, heapEndMiB] = firstAndLast(series((s) => s.heapUsedMiB[replica] ?? Number.NaN));
    const growthPct = round(((endMiB - baselineMiB) / baselineMiB) * 100);
    const n = after.length;
    const mt = after.reduce((a, [t]) => a + t, 0) / n;
    const mv = after.reduce((a, [, v]) => a + v, 0) / n;
    const cov = after.reduce((a, [t, v]) => a + (t - mt) * (v - mv), 0);
    const vt = after.reduce((a, [t]) => a + (t - mt) ** 2, 0);
    return {
      replica,
      baselineMiB: round(baselineMiB),
      endMiB: round(endMiB),
      growthPct,
      peakMiB: round(Math.max(...after.map(([, v]) => v))),
      // A trend over a few minutes is GC noise, not a rate: given only from five minutes on.
      slopeMiBPerHour: vt > 0 && after.at(-1)![0] - after[0]![0] >= 300 ? round((cov / vt) * 3600) : undefined,
      heapBaselineMiB: Number.isFinite(heapBaselineMiB) ? round(heapBaselineMiB) : undefined,
      heapEndMiB: Number.isFinite(heapEndMiB) ? round(heapEndMiB) : undefined,
      pass: Number.isFinite(growthPct) && growthPct < MEMORY_GROWTH_LIMIT_PCT,
    };
  });
}

/** CPU share (% of one core) per process over [fromS, toS), from the cumulative samples nearest its ends. */
function cpuBetween(samples: Sample[], fromS: number, toS: number): MinuteRow['cpuPct'] {
  const a = samples.filter((s) => s.t <= fromS).at(-1) ?? samples[0];
  const b = samples.filter((s) => s.t <= toS).at(-1);
  if (!a || !b || b.t <= a.t) return { replicas: [] };
  const pct = (x?: number, y?: number) => (x === undefined || y === undefined ? undefined : Math.round(((y - x) / (b.t - a.t)) * 100));
  return {
    replicas: a.cpu.replicas.map((x, i) => pct(x, b.cpu.replicas[i]) ?? Number.NaN),
    redis: pct(a.cpu.redis, b.cpu.redis),
    bench: pct(a.cpu.bench, b.cpu.bench),
    machine: pct(a.cpu.machine, b.cpu.machine),
  };
}

/** The minute of the soak a moment belongs to; the seconds past the last whole minute (stopping) count in the last. */
export const minuteOf = (startedAt: number, minutes: number) => (at: number) => Math.min(minutes - 1, Math.max(0, Math.floor((at - startedAt) / 60_000)));
export const groupOf = (minute: (at: number) => number) => (change: { source: string; at: number }) => `${change.source}:${minute(change.at)}`;

export function minuteRows(run: SoakRun): MinuteRow[] {
  const minutes = run.options.minutes;
  const minute = minuteOf(run.startedAt, minutes);
  const inMinute = (log: Timed[], m: number) => log.filter((x) => minute(x.at) === m);
  return Array.from({ length: minutes }, (_, m) => {
    const endS = m === minutes - 1 ? Infinity : (m + 1) * 60;
    const endSample = run.samples.filter((s) => s.t <= endS).at(-1);
    const startSample = run.samples.filter((s) => s.t <= m * 60).at(-1) ?? run.samples[0];
    // A cumulative counter's increase over the minute, summed over replicas.
    const increase = (pick: (s: Sample) => number[]) =>
      [endSample, startSample].map((s) => (s ? pick(s).reduce((a, b) => a + b, 0) : Number.NaN)).reduce((end, start) => end - start);
    const latency = (source: string) => ({
      ...percentiles(run.tally.latencies.get(`${source}:${m}`) ?? []),
      missed: run.tally.missedByGroup.get(`${source}:${m}`) ?? 0,
    });
    return {
      minute: m + 1,
      poll: run.polls.find((p) => p.minute === m),
      kill: latency('kill'),
      rollout: latency('rollout'),
      killPostP99: percentiles(inMinute(run.kills, m).map((k) => k.ms)).p99,
      failedCalls: [run.kills, run.outcomes, run.rolloutStarts].reduce((n, log) => n + inMinute(log, m).filter((x) => !x.ok).length, 0),
      cpuPct: cpuBetween(run.samples, m * 60, endS),
      rssMiB: endSample?.rssMiB ?? [],
      storeConflicts: increase((s) => s.storeConflicts),
      gcMs: Math.round(increase((s) => s.gcSeconds) * 1000),
      gcPausesOver10ms: increase((s) => s.gcPausesOver10ms),
      loopLagMaxMs: (endSample?.loopLagMaxMs ?? []).map((_, i) =>
        Math.max(...run.samples.filter((x) => x.t > m * 60 && x.t <= endS).map((x) => x.loopLagMaxMs[i] ?? Number.NaN)),
      ),
      openStreams: endSample?.openStreams ?? 0,
    };
  });
}

export function overallLatency(tally: DeliveryTally, source: string): Percentiles {
  return percentiles([...tally.latencies].flatMap(([group, values]) => (group.startsWith(`${source}:`) ? values : [])));
}

export function soakChecks(r: {
  memory: MemoryVerdict[];
  tally: DeliveryTally;
  errors: number;
  streams: number;
  killLatency: Percentiles;
  unexpectedRollouts: number;
  changes: number;
}): Check[] {
  const n = (x: number) => x.toLocaleString('en-US');
  return [
    ...r.memory.map((m) => ({
      name: `replica ${m.replica} resident size, growth after warm-up (first minute after warm-up → last minute, medians)`,
      target: `< ${MEMORY_GROWTH_LIMIT_PCT}%`,
      measured: `${m.baselineMiB} → ${m.endMiB} MiB (${m.growthPct >= 0 ? '+' : ''}${m.growthPct}%${m.slopeMiBPerHour === undefined ? '' : `, trend ${m.slopeMiBPerHour} MiB/h`})`,
      pass: m.pass,
    })),
    {
      name: `every flag change reached every stream (${n(r.changes)} changes × open streams)`,
      target: '0 missed',
      measured: `${n(r.tally.missed)} missed of ${n(r.tally.expected)} (${n(r.tally.missedWhileDisconnected)} while a stream was reconnecting)`,
      pass: r.tally.missed === 0 && r.tally.expected > 0,
    },
    {
      name: `kill → raw SSE stream, p99 over the whole soak (${n(r.streams)} streams)`,
      target: `< ${KILL_P99_TARGET_MS} ms`,
      measured: `${r.killLatency.p99} ms (max ${r.killLatency.max} ms)`,
      pass: r.killLatency.p99 < KILL_P99_TARGET_MS,
    },
    {
      name: 'errors: failed polls (socket errors, timeouts, non-2xx/3xx), failed admin/outcome calls, stream disconnects',
      target: '0',
      measured: n(r.errors),
      pass: r.errors === 0,
    },
    {
      name: 'rollouts only completed (none rolled back, aborted or paused)',
      target: '0 otherwise',
      measured: n(r.unexpectedRollouts),
      pass: r.unexpectedRollouts === 0,
    },
  ];
}

const cell = (x: number | undefined, unit = '') => (x === undefined || Number.isNaN(x) ? '—' : `${x}${unit}`);

/** CPU of the soak's own load (this process and wrk), and of everything else on the machine (other people's work on a shared one), % of one core. */
const soakCpu = (r: MinuteRow) => (r.cpuPct.bench === undefined ? undefined : r.cpuPct.bench + (r.poll?.loadGenCpuPct ?? 0));
export function otherCpu(r: MinuteRow): number | undefined {
  const ours = [...r.cpuPct.replicas, r.cpuPct.redis, soakCpu(r)];
  if (r.cpuPct.machine === undefined || ours.some((x) => x === undefined || Number.isNaN(x))) return undefined;
  return Math.max(0, r.cpuPct.machine - ours.reduce<number>((a, b) => a + b!, 0));
}

/** One row per minute of the soak. */
export function minuteTable(rows: MinuteRow[], warmupMinutes: number): string[] {
  const out = [
    '| min | polls/s | poll p50 / p99 / max (ms) | kill → stream p99 / max (ms) | step change → stream p99 / max (ms) | missed | kill POST p99 (ms) | failed calls | commit conflicts | CPU % replicas / redis / soak + wrk / other processes | longest event-loop stall (ms) | GC ms (pauses > 10 ms) | RSS MiB | open streams |',
    '| ---: | ---: | --- | --- | --- | ---: | ---: | ---: | ---: | --- | --- | --- | --- | ---: |',
  ];
  for (const r of rows) {
    const p = r.poll;
    const poll = p ? `${p.p50} / ${p.p99} / ${p.max}${p.errors + p.timeouts + p.unexpected ? ` (${p.errors + p.timeouts + p.unexpected} failed)` : ''}` : '—';
    const lat = (x: MinuteRow['kill']) => (x.samples ? `${x.p99} / ${x.max} (${x.samples.toLocaleString('en-US')})` : '—');
    const cpu = `${r.cpuPct.replicas.map((c) => cell(c)).join('+') || '—'} / ${cell(r.cpuPct.redis)} / ${cell(soakCpu(r))} / ${cell(otherCpu(r))}`;
    out.push(
      `| ${r.minute}${r.minute <= warmupMinutes ? ' (warm-up)' : ''} | ${p ? p.rps.toLocaleString('en-US') : '—'} | ${poll} | ${lat(r.kill)} | ${lat(r.rollout)} | ${r.kill.missed + r.rollout.missed} | ${cell(r.killPostP99)} | ${r.failedCalls} | ${cell(r.storeConflicts)} | ${cpu} | ${r.loopLagMaxMs.map((x) => cell(x)).join(' + ') || '—'} | ${cell(r.gcMs)} (${cell(r.gcPausesOver10ms)}) | ${r.rssMiB.join(' + ')} | ${r.openStreams} |`,
    );
  }
  return out;
}
