import path from 'node:path';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Store } from '../store/port.js';
import { auditedCommit } from '../audit/audited-commit.js';
import { AppError } from '../errors/app-error.js';
import type { Logger } from '../logger.js';
import { FileError } from '../files/file-error.js';
import { fileSourceChange } from '../files/file-sources.js';
import { parseYamlFile, readYamlDir } from '../files/yaml-files.js';
import type { Policy } from './policy-schema.js';

/**
 * Public-holiday calendars: dates on which no step is entered, kept in files a team maintains once a
 * year (policies/holidays/<name>.yaml) and named by a policy's `windows.deny[].holidays`. Stored, so
 * every replica starts rollouts from the same dates; a rollout copies them into its plan when it
 * starts (a plan is what the decision core reads, and it must not read the store).
 */
export const HOLIDAY_CALENDARS = 'holiday-calendars';
/** A calendar lists at most this many dates (decades of public holidays). */
export const MAX_CALENDAR_DATES = 2000;

const dateSchema = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date as YYYY-MM-DD');

export const holidayCalendarSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'a calendar name: letters, digits and _ . - (at most 64)'),
    description: z.string().max(1000).optional(),
    /** Each date alone, or with the holiday's name ("2026-10-01" or {date: 2026-10-01, name: National Day}). */
    dates: z
      .array(z.union([dateSchema, z.object({ date: dateSchema, name: z.string().max(200).optional() }).strict()]))
      .max(MAX_CALENDAR_DATES, `at most ${MAX_CALENDAR_DATES} dates`),
  })
  .strict()
  .meta({ id: 'HolidayCalendar' });
export type HolidayCalendar = z.output<typeof holidayCalendarSchema>;

export const calendarDates = (c: HolidayCalendar): string[] => c.dates.map((d) => (typeof d === 'string' ? d : d.date));

/** The calendars' directory: `holidays/` inside POLICIES_DIR. */
export const holidaysDir = (policiesDir: string) => path.join(policiesDir, 'holidays');

/**
 * Applies every calendar file whose content changed since it was last applied (as policy files are),
 * audited as `calendar.file`. A bad file is reported and skipped; the others load.
 */
export async function loadHolidayCalendars(
  store: Store,
  dir: string,
  maxBytes: number,
  logger: Logger,
  now: () => Date,
  awaitApplied: (seq: number) => Promise<void>,
): Promise<void> {
  const { files, errors } = await readYamlDir(dir, (file, text) => ({ file, calendar: parseYamlFile(file, text, holidayCalendarSchema) }), { maxBytes });
  for (const err of errors) logger.error({ file: err.file }, `holiday calendar not loaded: ${err.message}`);
  for (const { file, calendar } of files) {
    const hash = createHash('sha256').update(JSON.stringify(calendar)).digest('hex');
    const relative = path.relative(dir, file);
    await auditedCommit(
      store,
      async () => {
        const source = await fileSourceChange(store, `calendar:${relative}`, hash);
        if (!source) return { commit: {}, audit: [], result: undefined };
        const existing = await store.get<HolidayCalendar>(HOLIDAY_CALENDARS, calendar.name);
        return {
          commit: { puts: [{ collection: HOLIDAY_CALENDARS, id: calendar.name, value: calendar, expectVersion: existing?.version ?? 0, quiet: true }, source] },
          audit: {
            actor: { type: 'file', id: relative, name: relative },
            action: 'calendar.file',
            target: { type: 'calendar', id: calendar.name },
            before: existing?.value ?? null,
            after: calendar,
          },
          result: undefined,
        };
      },
      now,
      awaitApplied,
    ).catch((err) => {
      if (!(err instanceof FileError)) throw err;
    });
    logger.info({ file, dates: calendar.dates.length }, `holiday calendar ${calendar.name} loaded`);
  }
}

/**
 * The plan a rollout follows: the policy with each named holiday calendar's dates copied into its
 * deny entry. A calendar that does not exist refuses the start, naming the entry.
 */
export async function withHolidayDates(store: Store, policy: Policy): Promise<Policy> {
  const deny = policy.windows?.deny ?? [];
  if (!deny.some((d) => d.holidays)) return policy;
  const resolved = await Promise.all(
    deny.map(async (entry, i) => {
      if (!entry.holidays) return entry;
      const calendar = await store.get<HolidayCalendar>(HOLIDAY_CALENDARS, entry.holidays);
      if (!calendar) {
        throw new AppError(
          'refused',
          'unknown_holiday_calendar',
          `policy "${policy.name}" windows.deny[${i}].holidays names the calendar "${entry.holidays}", which does not exist ` +
            `(a file policies/holidays/${entry.holidays}.yaml with name: ${entry.holidays})`,
          { path: `windows.deny.${i}.holidays` },
        );
      }
      const dates = [...new Set([...(entry.dates ?? []), ...calendarDates(calendar.value)])].sort();
      return dates.length > 0 ? { ...entry, dates } : entry;
    }),
  );
  return { ...policy, windows: { ...policy.windows!, deny: resolved } };
}
