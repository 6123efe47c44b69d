import { isDeepStrictEqual } from 'node:util';
import path from 'node:path';
import { parseDocument, stringify } from 'yaml';
import { isOwnedStrategyId } from '../flags/rollout-ownership.js';
import { flagDefinitionSchema, type FlagDefinition, type StoredFlag } from '../flags/schema.js';
import { describeIssues } from '../validation/issues.js';

/**
 * What `rolloutctl export` writes, as pure functions: the served definitions of flags as flags/*.yaml,
 * merged into the files that already hold them (so git shows only what the controller changed) and
 * into `<flag>.yaml` for a flag no file holds yet.
 */

/** No folding: a line a person wrote in a file stays one line when export rewrites the file around it. */
const YAML_OPTIONS = { lineWidth: 0 } as const;

export const EXPORT_HEADER = '# Written by rolloutctl export: the flags as the controller serves them (percentages set by rollouts included).\n';

/**
 * The flag as a file says it: no kill switches (they are never part of a file) and no owned strategy
 * ids (bookkeeping of the controller; apply matches the strategy again, see rollout-ownership.ts).
 */
export function fileDefinition(flag: StoredFlag): FlagDefinition {
  const { killSwitches: _notInFiles, ...definition } = flag;
  const environments = Object.fromEntries(
    Object.entries(definition.environments).map(([env, config]) => [
      env,
      { ...config, strategies: config.strategies.map(({ id, ...s }) => (id === undefined || isOwnedStrategyId(id) ? s : { ...s, id })) },
    ]),
  );
  return { ...definition, environments };
}

/**
 * Why a flag cannot be written to a file, or undefined: an import may hold what authoring refuses (an
 * unknown operator, a regular expression that does not compile, a missing segment, a name outside
 * the authored rule, which could also not name a file safely). Such a flag would make the file it is
 * written to refuse to load, so export leaves it out and says why.
 */
export function notWritable(flag: StoredFlag): string | undefined {
  const checked = flagDefinitionSchema.safeParse(fileDefinition(flag));
  if (checked.success) return undefined;
  const [first] = describeIssues(checked.error, '', 1);
  return `${first!.path}: ${first!.message}`;
}

const TOP_LEVEL_DEFAULTS: Record<string, unknown> = { type: 'release', project: 'default', stale: false, impressionData: false };
const isEmpty = (v: unknown) =>
  (Array.isArray(v) && v.length === 0) || (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0);

function withoutEmpty(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutEmpty);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).flatMap(([k, v]) => (isEmpty(v) ? [] : [[k, withoutEmpty(v)]])));
}

/**
 * The definition without what the loader fills in by itself (empty lists, default type and project),
 * so a file reads like one a person wrote. Used only when it parses back to exactly the same
 * definition; otherwise the whole definition is written.
 */
export function compactDefinition(definition: FlagDefinition): Record<string, unknown> {
  const top = Object.fromEntries(Object.entries(definition).filter(([k, v]) => !(k in TOP_LEVEL_DEFAULTS && isDeepStrictEqual(TOP_LEVEL_DEFAULTS[k], v))));
  const compact = withoutEmpty(top) as Record<string, unknown>;
  compact.name = definition.name;
  const back = flagDefinitionSchema.safeParse(compact);
  return back.success && isDeepStrictEqual(back.data, definition) ? compact : { ...definition };
}

/** A flags file as read before the export: its path, text, and the definitions it holds (parsed, defaults filled in). */
export interface ExistingFile {
  file: string;
  text: string;
  flags: FlagDefinition[];
}

export interface PlannedFile {
  file: string;
  created: boolean;
  /** The flags whose definition in this file is replaced or added. */
  flags: string[];
  text: string;
}

/**
 * The files to write so that each exported flag reads as served: a flag held by a file is replaced
 * in place (the rest of the file, comments included, stays as it was), any other goes into
 * `<dir>/<name>.yaml`. A file whose flags already say what is served is not touched.
 */
export function planExport(dir: string, exported: FlagDefinition[], existing: ExistingFile[]): PlannedFile[] {
  const holder = new Map<string, ExistingFile>();
  for (const f of existing) for (const flag of f.flags) if (!holder.has(flag.name)) holder.set(flag.name, f);
  const edited = new Map<string, { doc: ReturnType<typeof parseDocument>; flags: string[] }>();
  const edit = (f: ExistingFile) => {
    let entry = edited.get(f.file);
    if (!entry) edited.set(f.file, (entry = { doc: parseDocument(f.text), flags: [] }));
    return entry;
  };
  const created = new Map<string, Array<Record<string, unknown>>>();
  for (const definition of exported) {
    const held = holder.get(definition.name);
    const file = held?.file ?? path.join(dir, `${definition.name}.yaml`);
    // A file already named after the flag, holding other flags: the flag joins them.
    const named = held ?? existing.find((f) => path.resolve(f.file) === path.resolve(file));
    if (!named) {
      created.set(file, [...(created.get(file) ?? []), compactDefinition(definition)]);
      continue;
    }
    const index = named.flags.findIndex((f) => f.name === definition.name);
    if (index >= 0 && isDeepStrictEqual(named.flags[index], definition)) continue;
    const { doc, flags } = edit(named);
    const node = doc.createNode(compactDefinition(definition));
    if (index >= 0) doc.setIn(['flags', index], node);
    else if (doc.has('flags')) doc.addIn(['flags'], node);
    else doc.set('flags', doc.createNode([compactDefinition(definition)]));
    flags.push(definition.name);
  }
  return [
    ...[...edited].map(([file, { doc, flags }]) => ({ file, created: false, flags, text: doc.toString(YAML_OPTIONS) })),
    ...[...created].map(([file, defs]) => ({
      file,
      created: true,
      flags: defs.map((d) => String(d.name)),
      text: `${EXPORT_HEADER}${stringify({ flags: defs }, YAML_OPTIONS)}`,
    })),
  ];
}
