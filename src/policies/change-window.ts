import type { Day, DenyEntry, Windows } from './policy-schema.js';
import { say, type Wording, wording } from '../rollouts/reason-wording.js';
import { toMinutes } from './clock-time.js';

interface LocalTime {
  day: Day;
  minutes: number;
  date: string;
  /** Day of the month and how many days the month has, for month-end exclusions. */
  dayOfMonth: number;
  daysInMonth: number;
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
  const [year, month] = [Number(parts.year), Number(parts.month)];
  return {
    day: parts.weekday!.toLowerCase().slice(0, 3) as Day,
    minutes: Number(parts.hour) * 60 + Number(parts.minute),
    date: `${parts.year}-${parts.month}-${parts.day}`,
    dayOfMonth: Number(parts.day),
    // Day 0 of the next month is the last day of this one.
    daysInMonth: new Date(Date.UTC(year, month, 0)).getUTCDate(),
  };
}

/** "2026-01-17 20:00 (Asia/Shanghai)": a time as people in that zone read it. */
export function localText(at: Date, tz: string): string {
  const local = localTime(at, tz);
  const hh = String(Math.floor(local.minutes / 60)).padStart(2, '0');
  const mm = String(local.minutes % 60).padStart(2, '0');
  return `${local.date} ${hh}:${mm} (${tz})`;
}

/** Why a deny entry closes this local date, or undefined when it does not. */
function denied(deny: DenyEntry, local: LocalTime): Wording | undefined {
  const { date } = local;
  if (deny.dates?.includes(date))
    return deny.holidays
      ? wording('{date} is a holiday ({holidays}, {tz})', { date, holidays: deny.holidays, tz: deny.tz })
      : wording('{date} is a denied date ({tz})', { date, tz: deny.tz });
  if (deny.lastDaysOfMonth !== undefined && local.dayOfMonth > local.daysInMonth - deny.lastDaysOfMonth)
    return wording('{date} is in the last {n} day(s) of the month ({tz})', { date, n: deny.lastDaysOfMonth, tz: deny.tz });
  return undefined;
}

type Closed = { by: 'deny'; tz: string; reason: Wording } | { by: 'allow'; reason: Wording };

/** What keeps the window shut at `now`, or null when it is open. Denied dates win over allowed hours. */
function closedBy(windows: Windows, now: Date): Closed | null {
  for (const deny of windows.deny) {
    const reason = denied(deny, localTime(now, deny.tz));
    if (reason) return { by: 'deny', tz: deny.tz, reason };
  }
  if (windows.allow.length === 0) return null;
  for (const allow of windows.allow) {
    const local = localTime(now, allow.tz);
    const [from, to] = allow.hours.split('-').map(toMinutes) as [number, number];
    if (allow.days.includes(local.day) && local.minutes >= from && local.minutes < to) return null;
  }
  return { by: 'allow', reason: wording('outside every allowed change window') };
}

const MINUTE = 60_000;
/** How far ahead the next opening is looked for; a window shut for longer is reported as never opening. */
export const NEXT_OPENING_HORIZON_DAYS = 400;

/**
 * When the window next opens, from `now` on (now itself when open), or null beyond the horizon.
 * Jumps rather than walks: to the next local midnight past a denied date, or to the nearest start of
 * an allowed range (or the next midnight, when none is left today), and looks again. Every jump
 * lands on a time the window may open, so none is skipped; a daylight-saving change at most makes
 * one look land on a later minute, which the next look corrects.
 */
export function nextOpening(windows: Windows | undefined, now: Date): Date | null {
  if (!windows) return now;
  const limit = now.getTime() + NEXT_OPENING_HORIZON_DAYS * 24 * 60 * MINUTE;
  let t = now.getTime();
  while (t <= limit) {
    const closed = closedBy(windows, new Date(t));
    if (!closed) return new Date(t);
    const minuteStart = t - (t % MINUTE);
    let wait: number;
    if (closed.by === 'deny') wait = 1440 - localTime(new Date(t), closed.tz).minutes;
    else {
      wait = Number.POSITIVE_INFINITY;
      for (const allow of windows.allow) {
        const local = localTime(new Date(t), allow.tz);
        const from = toMinutes(allow.hours.slice(0, 5));
        wait = Math.min(wait, allow.days.includes(local.day) && local.minutes < from ? from - local.minutes : 1440 - local.minutes);
      }
    }
    t = minuteStart + Math.max(1, wait) * MINUTE;
  }
  return null;
}

export interface WindowState {
  open: boolean;
  reason?: string;
  /** The template and values `reason` was filled from (reason-wording.ts), to say it in another language. */
  reasonWording?: Wording;
  /** When shut: when it next opens (ISO), absent when not within NEXT_OPENING_HORIZON_DAYS. */
  opensAt?: string;
}

/**
 * Whether a step may advance now and, when it may not, why and when it may. With no allow entries
 * every time is allowed. Rollback rules ignore windows: a breach kills at any hour.
 */
export function changeWindowOpen(windows: Windows | undefined, now: Date): WindowState {
  if (!windows) return { open: true };
  const closed = closedBy(windows, now);
  if (!closed) return { open: true };
  const opens = nextOpening(windows, now);
  const tz = windows.allow[0]?.tz ?? windows.deny[0]?.tz ?? 'UTC';
  const why = opens
    ? wording('{closed}; opens next at {at}', { closed: closed.reason, at: localText(opens, tz) })
    : wording('{closed}; it does not open within the next {days} days', { closed: closed.reason, days: NEXT_OPENING_HORIZON_DAYS });
  return { open: false, reason: say(why), reasonWording: why, ...(opens ? { opensAt: opens.toISOString() } : {}) };
}

/** Whether the window is open, without working out when it opens (the decision core asks this every analysis). */
export function isWindowOpen(windows: Windows | undefined, now: Date): boolean {
  return !windows || closedBy(windows, now) === null;
}
