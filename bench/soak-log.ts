/**
 * What the controller replicas printed during the soak, grouped: they run at LOG_LEVEL=warn, so every
 * line is something an operator would look at. pino writes one JSON object per line; anything else
 * (a crash's stack trace, a runtime warning) is counted as it is.
 */
const LEVELS: Record<number, string> = { 40: 'warn', 50: 'error', 60: 'fatal' };

export function controllerLogSummary(output: string): Array<{ level: string; msg: string; count: number }> {
  const counts = new Map<string, { level: string; msg: string; count: number }>();
  for (const line of output.split('\n')) {
    if (!line.trim()) continue;
    let level = 'output';
    let msg = line.slice(0, 200);
    try {
      const entry = JSON.parse(line) as { level?: number; msg?: string; err?: { message?: string } };
      if ((entry.level ?? 0) < 40) continue;
      level = LEVELS[entry.level!] ?? String(entry.level);
      msg = [entry.msg, entry.err?.message].filter(Boolean).join(': ').slice(0, 200);
    } catch {
      // not pino's JSON: kept as printed
    }
    const key = `${level}\t${msg}`;
    const seen = counts.get(key) ?? { level, msg, count: 0 };
    seen.count++;
    counts.set(key, seen);
  }
  return [...counts.values()].sort((a, b) => b.count - a.count).slice(0, 20);
}
