/**
 * A flag keeps its settings and its kill switches in records keyed by environment name, and an
 * environment may be named like a member every object inherits ("constructor", "toString",
 * "valueOf"). A plain `record[env]` finds the inherited function there: every flag looked killed
 * in such an environment and a kill was taken for a no-op. Read these records with this.
 */
export function forEnvironment<T>(record: Readonly<Record<string, T>>, environment: string): T | undefined {
  return Object.hasOwn(record, environment) ? record[environment] : undefined;
}
