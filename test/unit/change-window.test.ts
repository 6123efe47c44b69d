import { describe, expect, it } from 'vitest';
import { changeWindowOpen } from '../../src/policies/change-window.js';
import { windowsSchema } from '../../src/policies/policy-schema.js';

type WindowsInput = Parameters<typeof windowsSchema.parse>[0];

interface Row {
  /** The instant, in UTC, and what it is locally. */
  utc: string;
  local: string;
  open: boolean;
  reason?: RegExp;
}

function check(windows: WindowsInput, row: Row): void {
  const result = changeWindowOpen(windowsSchema.parse(windows), new Date(row.utc));
  expect(result.open).toBe(row.open);
  if (row.open) expect(result.reason).toBeUndefined();
  else expect(result.reason).toMatch(row.reason ?? /outside every allowed change window/);
}

describe('no windows', () => {
  it.each(['2026-03-01T03:00:00Z', '2026-12-31T23:59:00Z', '2026-03-02T12:00:00Z'])('no windows at all: open at %s', (utc) => {
    expect(changeWindowOpen(undefined, new Date(utc))).toEqual({ open: true });
  });

  it('empty allow and deny lists: open', () => {
    expect(changeWindowOpen(windowsSchema.parse({}), new Date('2026-03-01T03:00:00Z'))).toEqual({ open: true });
    expect(changeWindowOpen(windowsSchema.parse({ allow: [], deny: [] }), new Date('2026-03-01T03:00:00Z'))).toEqual({ open: true });
  });

  it('only deny dates: open on every other date', () => {
    expect(changeWindowOpen(windowsSchema.parse({ deny: [{ dates: ['2026-12-31'] }] }), new Date('2026-12-30T23:59:00Z')).open).toBe(true);
  });
});

describe('allowed days and hours in Asia/Shanghai (UTC+8, no DST)', () => {
  const officeHours: WindowsInput = { allow: [{ days: ['mon', 'tue', 'wed', 'thu'], hours: '10:00-17:00', tz: 'Asia/Shanghai' }] };
  it.each<Row>([
    { utc: '2026-03-02T01:59:00Z', local: 'Mon 09:59', open: false },
    { utc: '2026-03-02T02:00:00Z', local: 'Mon 10:00 (start is inclusive)', open: true },
    { utc: '2026-03-02T08:59:00Z', local: 'Mon 16:59', open: true },
    { utc: '2026-03-02T09:00:00Z', local: 'Mon 17:00 (end is exclusive)', open: false },
    { utc: '2026-03-05T08:00:00Z', local: 'Thu 16:00', open: true },
    { utc: '2026-03-06T02:00:00Z', local: 'Fri 10:00', open: false },
    { utc: '2026-03-01T03:00:00Z', local: 'Sun 11:00', open: false },
    { utc: '2026-03-02T12:00:00Z', local: 'Mon 20:00 (noon UTC)', open: false },
  ])('$utc = $local → open: $open', (row) => check(officeHours, row));

  const mondays: WindowsInput = { allow: [{ days: ['mon'], tz: 'Asia/Shanghai' }] };
  it.each<Row>([
    { utc: '2026-03-01T15:59:00Z', local: 'Sun 23:59 (Sunday in UTC too)', open: false },
    { utc: '2026-03-01T16:00:00Z', local: 'Mon 00:00 while Sunday in UTC', open: true },
    { utc: '2026-03-01T23:30:00Z', local: 'Mon 07:30 while Sunday in UTC', open: true },
    { utc: '2026-03-02T15:59:00Z', local: 'Mon 23:59', open: true },
    { utc: '2026-03-02T16:00:00Z', local: 'Tue 00:00 while Monday in UTC', open: false },
  ])('days are Shanghai days across midnight UTC: $utc = $local → open: $open', (row) => check(mondays, row));

  const mondaysUtc: WindowsInput = { allow: [{ days: ['mon'] }] };
  it.each<Row>([
    { utc: '2026-03-01T16:00:00Z', local: 'Sun 16:00 UTC', open: false },
    { utc: '2026-03-02T16:00:00Z', local: 'Mon 16:00 UTC', open: true },
  ])('the same instants with the default UTC zone: $utc → open: $open', (row) => check(mondaysUtc, row));

  const earlyMondays: WindowsInput = { allow: [{ days: ['mon'], hours: '06:00-10:00', tz: 'Asia/Shanghai' }] };
  it.each<Row>([
    { utc: '2026-03-01T21:59:00Z', local: 'Mon 05:59', open: false },
    { utc: '2026-03-01T22:00:00Z', local: 'Mon 06:00 (22:00 Sunday UTC)', open: true },
    { utc: '2026-03-02T01:59:00Z', local: 'Mon 09:59 (01:59 Monday UTC)', open: true },
    { utc: '2026-03-02T22:00:00Z', local: 'Tue 06:00', open: false },
  ])('hours that span midnight UTC: $utc = $local → open: $open', (row) => check(earlyMondays, row));
});

describe('midnight, DST and several windows', () => {
  it.each<Row>([
    { utc: '2026-03-02T00:00:00Z', local: '00:00', open: true },
    { utc: '2026-03-02T00:30:00Z', local: '00:30', open: true },
    { utc: '2026-03-02T01:00:00Z', local: '01:00', open: false },
    { utc: '2026-03-02T23:59:00Z', local: '23:59', open: false },
  ])('the first hour of the day reads as hour 0, not 24: $utc → open: $open', (row) => check({ allow: [{ hours: '00:00-01:00' }] }, row));

  it.each<Row>([
    { utc: '2026-03-02T23:59:00Z', local: 'Mon 23:59', open: true },
    { utc: '2026-03-03T00:00:00Z', local: 'Tue 00:00', open: false },
  ])('"24:00" closes at the end of the day: $utc → open: $open', (row) => check({ allow: [{ days: ['mon'], hours: '20:00-24:00' }] }, row));

  it.each<Row>([
    { utc: '2026-03-27T08:30:00Z', local: 'Fri 09:30 CET (UTC+1)', open: true },
    { utc: '2026-03-27T07:30:00Z', local: 'Fri 08:30 CET', open: false },
    { utc: '2026-03-30T07:30:00Z', local: 'Mon 09:30 CEST (UTC+2)', open: true },
    { utc: '2026-03-30T15:30:00Z', local: 'Mon 17:30 CEST', open: false },
    { utc: '2026-03-30T14:59:00Z', local: 'Mon 16:59 CEST', open: true },
  ])('Europe/Oslo across the spring DST change: $utc = $local → open: $open', (row) => check({ allow: [{ hours: '09:00-17:00', tz: 'Europe/Oslo' }] }, row));

  const twoWindows: WindowsInput = {
    allow: [
      { days: ['mon'], hours: '09:00-10:00' },
      { days: ['sat', 'sun'], hours: '14:00-15:00', tz: 'America/New_York' },
    ],
  };
  it.each<Row>([
    { utc: '2026-03-02T09:30:00Z', local: 'Mon 09:30 UTC (first window)', open: true },
    { utc: '2026-03-01T19:30:00Z', local: 'Sun 14:30 New York, EST (second window)', open: true },
    { utc: '2026-03-01T14:30:00Z', local: 'Sun 14:30 UTC, 09:30 New York', open: false },
    { utc: '2026-03-02T19:30:00Z', local: 'Mon 14:30 New York', open: false },
  ])('any one allow entry opens: $utc = $local → open: $open', (row) => check(twoWindows, row));
});

describe('denied dates', () => {
  const newYearsEveShanghai: WindowsInput = { deny: [{ dates: ['2026-12-31'], tz: 'Asia/Shanghai' }] };
  it.each<Row>([
    { utc: '2026-12-30T15:59:00Z', local: 'Dec 30 23:59 Shanghai', open: true },
    {
      utc: '2026-12-30T16:30:00Z',
      local: 'Dec 31 00:30 Shanghai, still Dec 30 in UTC',
      open: false,
      reason: /^2026-12-31 is a denied date \(Asia\/Shanghai\); opens next at 2027-01-01 00:00 \(Asia\/Shanghai\)$/,
    },
    { utc: '2026-12-31T15:59:00Z', local: 'Dec 31 23:59 Shanghai', open: false, reason: /denied date/ },
    { utc: '2026-12-31T16:30:00Z', local: 'Jan 1 00:30 Shanghai, still Dec 31 in UTC', open: true },
  ])('deny dates are read in their own zone: $utc = $local → open: $open', (row) => check(newYearsEveShanghai, row));

  it.each<Row>([
    {
      utc: '2026-12-31T16:30:00Z',
      local: 'Dec 31 16:30 UTC',
      open: false,
      reason: /^2026-12-31 is a denied date \(UTC\); opens next at 2027-01-01 00:00 \(UTC\)$/,
    },
    { utc: '2027-01-01T00:00:00Z', local: 'Jan 1 00:00 UTC', open: true },
  ])('deny dates default to UTC: $utc → open: $open', (row) => check({ deny: [{ dates: ['2026-12-24', '2026-12-31'] }] }, row));

  it('a denied date wins over an allowed hour', () => {
    const windows: WindowsInput = {
      allow: [{ days: ['thu'], hours: '10:00-17:00', tz: 'Asia/Shanghai' }],
      deny: [{ dates: ['2026-12-31'], tz: 'Asia/Shanghai' }],
    };
    check(windows, { utc: '2026-12-31T03:00:00Z', local: 'Thu Dec 31 11:00 Shanghai', open: false, reason: /denied date/ });
    check(windows, { utc: '2026-12-24T03:00:00Z', local: 'Thu Dec 24 11:00 Shanghai', open: true });
  });
});
