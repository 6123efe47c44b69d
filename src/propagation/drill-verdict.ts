import type { DrillRecord } from './drill-record.js';

/**
 * A drill in one sentence: verified, or what is missing. Shared by the report and the dashboard
 * (which bundles it: types only are imported here).
 */
export function drillVerdict(r: DrillRecord): string {
  const restored = r.restore.restored ? '' : ` The flag was NOT restored: ${r.restore.why}.`;
  if (r.instances > 0 && r.confirmed === r.instances) {
    return `Verified: all ${r.instances} connected SDK instances had the kill within ${msText(r.ms.max)}.${restored}`;
  }
  const why =
    r.ended === 'failed'
      ? ` (the drill could not read what the instances hold: ${r.waitError ?? 'unknown error'})`
      : r.ended === 'interrupted'
        ? ' (the controller replica running it shut down, and it restored early)'
        : ` within ${r.timeoutSeconds} s`;
  return `Not verified: ${r.instances - r.confirmed} of ${r.instances} connected SDK instances never had the kill${why}.${restored}`;
}

/** "1,234 ms", or "not reached" for a share of instances that never had it. */
export function msText(value: number | null): string {
  return value === null ? 'not reached' : `${value.toLocaleString('en')} ms`;
}
