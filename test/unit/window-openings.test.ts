import { describe, expect, it } from 'vitest';
import { changeWindowOpen, isWindowOpen, nextOpening, NEXT_OPENING_HORIZON_DAYS } from '../../src/policies/change-window.js';
import { windowsSchema } from '../../src/policies/policy-schema.js';

type WindowsInput = Parameters<typeof windowsSchema.parse>[0];
const windows = (input: WindowsInput) => windowsSchema.parse(input);

/** The go-live plans' low-traffic window: 20:00–02:00 Beijing time, never in the last two days of a month. */
const lowTraffic: WindowsInput = {
  allow: [
    { hours: '20:00-24:00', tz: 'Asia/Shanghai' },
    { hours: '00:00-02:00', tz: 'Asia/Shanghai' },
  ],
  deny: [{ lastDaysOfMonth: 2, tz: 'Asia/Shanghai' }],
};

describe('month-end exclusions (lastDaysOfMonth)', () => {
  it.each([
    // 2026-01-30 and -31 are January's last two days; February 2026 has 28 days; 2028 is a leap year.
    { utc: '2026-01-29T12:00:00Z', local: 'Jan 29 20:00 Shanghai', open: true },
    { utc: '2026-01-29T16:30:00Z', local: 'Jan 30 00:30 Shanghai', open: false },
    { utc: '2026-01-31T17:00:00Z', local: 'Feb 1 01:00 Shanghai', open: true },
    { utc: '2026-02-26T12:30:00Z', local: 'Feb 26 20:30 Shanghai', open: true },
    { utc: '2026-02-27T12:30:00Z', local: 'Feb 27 20:30 Shanghai (28-day month)', open: false },
    { utc: '2028-02-28T12:30:00Z', local: 'Feb 28 20:30 Shanghai (29-day month)', open: false },
    { utc: '2028-02-27T12:30:00Z', local: 'Feb 27 20:30 Shanghai (29-day month)', open: true },
  ])('$local → open: $open', ({ utc, open }) => {
    const state = changeWindowOpen(windows(lowTraffic), new Date(utc));
    expect(state.open).toBe(open);
    expect(isWindowOpen(windows(lowTraffic), new Date(utc))).toBe(open);
    if (!open) expect(state.reason).toMatch(/last 2 day\(s\) of the month \(Asia\/Shanghai\)/);
  });
});

describe('when a closed window next opens', () => {
  it.each([
    { now: '2026-01-17T06:00:00Z', local: 'Sat 14:00 Shanghai', opens: '2026-01-17T12:00:00.000Z', text: '2026-01-17 20:00 (Asia/Shanghai)' },
    { now: '2026-01-17T18:30:00Z', local: 'Sun 02:30 Shanghai, just shut', opens: '2026-01-18T12:00:00.000Z', text: '2026-01-18 20:00 (Asia/Shanghai)' },
    // Jan 30 and 31 are excluded: the next opening is Feb 1 00:00, inside the 00:00–02:00 range.
    { now: '2026-01-29T18:30:00Z', local: 'Jan 30 02:30 Shanghai', opens: '2026-01-31T16:00:00.000Z', text: '2026-02-01 00:00 (Asia/Shanghai)' },
    { now: '2026-01-29T10:00:00Z', local: 'Jan 29 18:00 Shanghai', opens: '2026-01-29T12:00:00.000Z', text: '2026-01-29 20:00 (Asia/Shanghai)' },
  ])('$local → $text', ({ now, opens, text }) => {
    const state = changeWindowOpen(windows(lowTraffic), new Date(now));
    expect(state.open).toBe(false);
    expect(state.opensAt).toBe(opens);
    expect(state.reason).toContain(`opens next at ${text}`);
    // The minute before the opening is still shut: no earlier opening was skipped.
    expect(isWindowOpen(windows(lowTraffic), new Date(Date.parse(opens) - 60_000))).toBe(false);
    expect(isWindowOpen(windows(lowTraffic), new Date(opens))).toBe(true);
  });

  it('an open window opens now', () => {
    const now = new Date('2026-01-17T13:00:00Z');
    expect(nextOpening(windows(lowTraffic), now)).toEqual(now);
    expect(changeWindowOpen(windows(lowTraffic), now)).toEqual({ open: true });
  });

  it('weekday office hours across a weekend and a holiday list, in a zone with daylight saving', () => {
    const office = windows({
      allow: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], hours: '09:30-16:00', tz: 'Europe/Oslo' }],
      deny: [{ dates: ['2026-03-30'], tz: 'Europe/Oslo' }],
    });
    // Friday 27 March 2026 17:00 Oslo (CET, UTC+1); DST starts Sunday 29 March; Monday 30 is denied.
    const state = changeWindowOpen(office, new Date('2026-03-27T16:00:00Z'));
    // Tuesday 31 March 09:30 CEST = 07:30 UTC.
    expect(state.opensAt).toBe('2026-03-31T07:30:00.000Z');
    expect(state.reason).toContain('opens next at 2026-03-31 09:30 (Europe/Oslo)');
  });

  it('a window shut for longer than the horizon says it does not open within it', () => {
    const from = new Date('2026-01-06T12:00:00Z');
    const dates = Array.from({ length: NEXT_OPENING_HORIZON_DAYS + 10 }, (_, i) => new Date(from.getTime() + i * 86_400_000).toISOString().slice(0, 10));
    const shut = windows({ deny: [{ dates }] });
    expect(nextOpening(shut, from)).toBeNull();
    const state = changeWindowOpen(shut, from);
    expect(state).toMatchObject({ open: false });
    expect(state.opensAt).toBeUndefined();
    expect(state.reason).toContain(`does not open within the next ${NEXT_OPENING_HORIZON_DAYS} days`);
  });

  it('finds an opening weeks away, past month-end exclusions, at the right minute', () => {
    const rare = windows({ allow: [{ days: ['sun'], hours: '03:00-03:05', tz: 'Asia/Shanghai' }], deny: [{ lastDaysOfMonth: 27, tz: 'Asia/Shanghai' }] });
    const opens = nextOpening(rare, new Date('2026-01-06T12:00:00Z'));
    // Sundays in days 1-4 of a month at 03:00 Shanghai: 2026-02-01 is a Sunday.
    expect(opens?.toISOString()).toBe('2026-01-31T19:00:00.000Z');
  });
});

describe('the schema of deny entries', () => {
  it('refuses an entry with nothing to deny, naming it', () => {
    const result = windowsSchema.safeParse({ deny: [{ tz: 'UTC' }] });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toMatch(/dates, lastDaysOfMonth or holidays/);
  });
  it.each([0, 28, 1.5])('refuses lastDaysOfMonth %s', (n) => {
    expect(windowsSchema.safeParse({ deny: [{ lastDaysOfMonth: n }] }).success).toBe(false);
  });
});
