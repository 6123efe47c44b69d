import { toMinutes, type Day, type Windows } from './policy-schema.js';

interface LocalTime {
  day: Day;
  minutes: number;
  date: string;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Wall-clock time in a time zone (formatters are cached: building one is costly and ticks are frequent). */
function localTime(now: Date, tz: string): LocalTime {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      weekday: 'short',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(tz, f);
  }
  const parts = Object.fromEntries(f.formatToParts(now).map((p) => [p.type, p.value]));
  return {
    day: parts.weekday!.toLowerCase().slice(0, 3) as Day,
    minutes: Number(parts.hour) * 60 + Number(parts.minute),
    date: `${parts.year}-${parts.month}-${parts.day}`,
  };
}

/**
 * Whether a step may advance now. Denied dates win over allowed hours; with no allow entries every
 * time is allowed. Rollback rules ignore windows: a breach kills at any hour.
 */
export function changeWindowOpen(windows: Windows | undefined, now: Date): { open: boolean; reason?: string } {
  if (!windows) return { open: true };
  for (const deny of windows.deny) {
    const local = localTime(now, deny.tz);
    if (deny.dates.includes(local.date)) return { open: false, reason: `${local.date} is a denied date (${deny.tz})` };
  }
  if (windows.allow.length === 0) return { open: true };
  for (const allow of windows.allow) {
    const local = localTime(now, allow.tz);
    const [from, to] = allow.hours.split('-').map(toMinutes) as [number, number];
    if (allow.days.includes(local.day) && local.minutes >= from && local.minutes < to) return { open: true };
  }
  return { open: false, reason: 'outside every allowed change window' };
}
