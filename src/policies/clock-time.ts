/** Minutes since midnight of "HH:MM" (24:00 is 1440, the end of a day). */
export const toMinutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
