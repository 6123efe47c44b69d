import type { Percentiles } from './kill-latency.js';
import { summaryTable, type Check } from './report.js';
import { minuteTable, otherCpu, type MemoryVerdict, type MinuteRow, type SoakOptions } from './soak-report.js';
import type { Sample } from './soak-samples.js';

/** Everything `npm run soak` writes to bench/reports/soak-latest.json, and how it reads as Markdown. */
export interface SoakReport {
  generatedAt: string;
  git: { commit: string; dirty: boolean };
  /** Shorter, or with fewer streams, polls or rollouts, than the full soak (30 min, 1,000 streams, 100 rollouts). */
  shortRun: boolean;
  options: SoakOptions;
  setup: {
    node: string;
    cpus: number;
    cpuModel: string;
    memoryGiB: number;
    pinning: string;
    loadGenerator: string;
    fdHardLimit?: string;
    fixtureFlags: number;
  };
  durationS: number;
  checks: Check[];
  memory: MemoryVerdict[];
  deliveries: {
    expected: number;
    delivered: number;
    missed: number;
    missedWhileDisconnected: number;
    changes: { kill: number; rollout: number };
    killLatency: Percentiles;
    /** The kill/restore call's own round trip, and the deliveries counted from its answer instead of its sending. */
    killCall: Percentiles;
    killAnsweredLatency: Percentiles;
    rolloutLatency: Percentiles;
    examples: Array<{ stream: number; flag: string; key: string; atS: number }>;
  };
  streams: { requested: number; failedToOpen: number; connectMs: number; disconnects: number; reconnectFailures: number; events: number };
  rollouts: { started: number; startFailures: number; byState: Record<string, number>; unexpected: Array<{ id: string; state: string }> };
  errors: {
    polls: { errors: number; timeouts: number; unexpected: number };
    failedKills: number;
    failedOutcomePosts: number;
    controllerLog: Array<{ replica: number; level: string; msg: string; count: number }>;
  };
  redis: { usedMiB: { start?: number; end?: number }; rssMiB: { start?: number; end?: number } };
  minutes: MinuteRow[];
  samples: Sample[];
  notes: string[];
  error?: string;
}

const n = (x: number) => x.toLocaleString('en-US');

export function renderSoakMarkdown(r: SoakReport): string {
  const o = r.options;
  const out: string[] = ['# Soak test report', ''];
  if (r.shortRun) {
    out.push(
      `> **Short run** (${o.minutes} min, ${n(o.streams)} streams, ${n(o.rps)} polls/s, ${o.rollouts} rollouts): it shows the soak works and what it measures; the full soak is \`npm run soak\` (30 min, 1,000 streams, 3,000 polls/s, 100 rollouts).`,
      '',
    );
  }
  out.push(
    `Generated ${r.generatedAt} at commit \`${r.git.commit}\`${r.git.dirty ? ' (work tree had uncommitted changes)' : ''}; ran ${Math.round(r.durationS)} s.`,
    '',
  );
  if (r.error) out.push(`> **The soak did not complete:** ${r.error}`, '');
  out.push('## Verdict', '', summaryTable(r.checks), '');

  out.push('## What ran', '');
  out.push(
    `- ${o.replicas} controller replica${o.replicas > 1 ? 's' : ''} (\`tsx src/main.ts\`, as \`npm start\`) on one redis-server on 127.0.0.1; ${r.setup.pinning}. Node ${r.setup.node}, ${r.setup.cpus} × ${r.setup.cpuModel}, ${r.setup.memoryGiB} GiB; open-files hard limit ${r.setup.fdHardLimit ?? '?'}.`,
    `- ${r.setup.fixtureFlags} flags (the bench fixture plus ${o.rollouts} rollout flags).`,
    `- ${n(o.streams)} raw SSE streams on \`/api/client/streaming\` (spread over the replicas), each logging every update of the kill-switch flag and of the rollout flags.`,
    `- ${n(o.rps)} polls/s of \`/api/client/features\` (${r.setup.loadGenerator}; ${o.pollConnections} connections per replica, each sending the newest ETag it has seen, so most answers are 304 and every flag change costs full answers).`,
    `- A kill switch flipped (kill, restore, …) every ${o.killEverySeconds} s, the calls alternating between replicas.`,
    `- ${o.rollouts} rollouts on a policy with steps 1 → 5 → 10 → 25 → 50 → 100 %, each step at least ${o.stepSeconds} s, analysed every ${o.analysisSeconds} s, no approvals; started staggered over one step, and started again on their flag when completed. Healthy outcomes (treatment and control, ~0.25 % errors, latencies well under the gate) were posted for every rollout flag every second, so every analysis read real counters.`,
    `- Resident size, CPU and descriptors sampled every ${o.sampleSeconds} s from /proc; the first ${o.warmupMinutes} min are warm-up.`,
    '',
  );

  const d = r.deliveries;
  out.push('## Deliveries', '');
  out.push(
    `${n(d.changes.kill)} kill-switch flips and ${n(d.changes.rollout)} step changes (read afterwards from the rollouts' histories, not from the streams) were due on every stream open at the time: ` +
      `${n(d.expected)} deliveries expected, ${n(d.delivered)} made, **${n(d.missed)} missed**${d.missedWhileDisconnected ? ` (${n(d.missedWhileDisconnected)} while a stream was reconnecting)` : ''}. ` +
      'A delivery counts when the stream received the flag in its new state after the change and before the flag took that state again.',
    '',
    '| Change → stream | Samples | p50 | p99 | max |',
    '| --- | ---: | ---: | ---: | ---: |',
    `| kill / restore (from sending the admin call) | ${n(d.killLatency.samples)} | ${d.killLatency.p50} ms | ${d.killLatency.p99} ms | ${d.killLatency.max} ms |`,
    `| … of which the call itself (sent → answered) | ${n(d.killCall.samples)} calls | ${d.killCall.p50} ms | ${d.killCall.p99} ms | ${d.killCall.max} ms |`,
    `| kill / restore, from the call's answer | ${n(d.killAnsweredLatency.samples)} | ${d.killAnsweredLatency.p50} ms | ${d.killAnsweredLatency.p99} ms | ${d.killAnsweredLatency.max} ms |`,
    `| rollout step (from the decision's timestamp, controller clock) | ${n(d.rolloutLatency.samples)} | ${d.rolloutLatency.p50} ms | ${d.rolloutLatency.p99} ms | ${d.rolloutLatency.max} ms |`,
    '',
  );
  if (d.examples.length) out.push(`First misses: ${d.examples.map((e) => `stream ${e.stream} ${e.flag} → ${e.key} at ${e.atS} s`).join('; ')}.`, '');
  const s = r.streams;
  out.push(
    `Streams: ${n(s.requested - s.failedToOpen)} of ${n(s.requested)} opened in ${n(s.connectMs)} ms; ${n(s.disconnects)} closed during the soak (${n(s.reconnectFailures)} reconnects failed); ${n(s.events)} flag updates received in all.`,
    '',
  );

  out.push(
    '## Memory',
    '',
    'Resident size (RSS, from /proc) is what is judged; the V8 heap in use (from /metrics) is shown beside it, as objects that pile up show there first.',
    '',
  );
  out.push(
    '| Replica | RSS after warm-up (MiB) | RSS last minute (MiB) | growth | peak (MiB) | trend | heap in use (MiB) | result |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |',
  );
  for (const m of r.memory) {
    const trend = m.slopeMiBPerHour === undefined ? '—' : `${m.slopeMiBPerHour} MiB/h`;
    out.push(
      `| ${m.replica} | ${m.baselineMiB} | ${m.endMiB} | ${m.growthPct}% | ${m.peakMiB} | ${trend} | ${m.heapBaselineMiB ?? '?'} → ${m.heapEndMiB ?? '?'} | ${m.pass ? 'PASS' : '**FAIL**'} |`,
    );
  }
  out.push(
    '',
    `redis-server: used_memory ${r.redis.usedMiB.start ?? '?'} → ${r.redis.usedMiB.end ?? '?'} MiB, resident ${r.redis.rssMiB.start ?? '?'} → ${r.redis.rssMiB.end ?? '?'} MiB (outcome counters, the audit log and rollout documents grow with the run by design; they expire or are trimmed by their own rules).`,
    '',
  );

  out.push('## Minute by minute', '', ...minuteTable(r.minutes, o.warmupMinutes), '');
  out.push(
    'Latency cells: p99 / max (deliveries counted). Commit conflicts: compare-and-set commits the store refused (writers racing for the same documents or the audit log head; each is retried). ' +
      `CPU in % of one core (the machine has ${r.setup.cpus * 100}%); "other processes" is the machine's busy time less the soak's own processes. Event-loop stall: the longest delay prom-client saw between scrapes. RSS at the end of the minute.`,
    '',
  );

  const e = r.errors;
  out.push('## Errors', '');
  out.push(
    `Polls: ${n(e.polls.errors)} socket errors, ${n(e.polls.timeouts)} timeouts, ${n(e.polls.unexpected)} answers other than 2xx/3xx. Failed kill/restore calls: ${n(e.failedKills)}. Failed outcome posts: ${n(e.failedOutcomePosts)}. Rollouts started ${n(r.rollouts.started)} (${n(r.rollouts.startFailures)} refused); states at the end: ${
      Object.entries(r.rollouts.byState)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ') || '—'
    }.`,
    '',
  );
  if (r.rollouts.unexpected.length) out.push(`Rollouts that did not just complete: ${r.rollouts.unexpected.map((u) => `${u.id} ${u.state}`).join(', ')}.`, '');
  if (e.controllerLog.length) {
    out.push('Controller log lines at warn or above (replica, level, message, count):', '');
    for (const l of e.controllerLog) out.push(`- replica ${l.replica} ${l.level}: ${l.msg} × ${l.count}`);
    out.push('');
  } else out.push('The replicas logged nothing at warn or above.', '');
  const notes = [...r.notes, ...derivedNotes(r)];
  if (notes.length) out.push('## Notes', '', ...notes.map((x) => `- ${x}`), '');
  return `${out.join('\n').trimEnd()}\n`;
}

/** A minute in which other processes used more than this (% of one core) was measured on a machine the soak did not have to itself. */
const DISTURBED_PCT = 50;

function derivedNotes(r: SoakReport): string[] {
  const disturbed = r.minutes.filter((m) => (otherCpu(m) ?? 0) > DISTURBED_PCT);
  if (disturbed.length === 0) return [];
  return [
    `Other processes on this shared machine used more than ${DISTURBED_PCT}% of a core in minute${disturbed.length > 1 ? 's' : ''} ${disturbed.map((m) => `${m.minute} (${otherCpu(m)}%)`).join(', ')}: ` +
      "latencies and event-loop stalls there include waiting for a core (the replicas are pinned to one, which others' work may share).",
  ];
}
