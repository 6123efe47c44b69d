import { stat } from 'node:fs/promises';
import path from 'node:path';
import { readBoundedFile } from '../files/bounded-read.js';
import { FileError } from '../files/file-error.js';
import { DEFAULT_YAML_FILE_MAX_BYTES } from '../files/file-limits.js';
import { parseYamlText, readYamlDir } from '../files/yaml-files.js';
import { parseFlagFile } from '../flags/flag-files.js';
import type { FlagDefinition, Segment } from '../flags/schema.js';
import { parsePolicyFile } from '../policies/policy-service.js';
import type { Policy } from '../policies/policy-schema.js';
import { parseEnvironmentsFile } from '../environments/environment-files.js';
import type { Environment } from '../environments/environment-schema.js';

/**
 * The files `apply` reads, read and validated with the very reader and parsers the controller loads
 * FLAGS_DIR and POLICIES_DIR with (the same size, file-type and YAML limits), so a file the CLI
 * accepts is a file the controller accepts.
 */

export type LocalFile =
  | { kind: 'flags'; file: string; flags: FlagDefinition[]; segments: Segment[] }
  | { kind: 'policy'; file: string; policy: Policy }
  | { kind: 'environments'; file: string; environments: Environment[] };

/**
 * Which parser a file gets: environments.yaml is the environments file (wherever it is, as the
 * controller's default sits among the policies); a file in a directory named flags/ or policies/ is
 * that kind (as the controller's FLAGS_DIR and POLICIES_DIR are); elsewhere, one with a top-level
 * `environments` is an environments file, one with `flags` or `segments` a flags file, one with
 * `name` or `steps` a policy (whose strict schema then names whatever does not belong), and
 * anything else is refused as neither.
 */
function kindOf(file: string, text: string): LocalFile['kind'] {
  if (/^environments\.ya?ml$/.test(path.basename(file))) return 'environments';
  const dir = path.basename(path.dirname(path.resolve(file)));
  if (dir === 'flags') return 'flags';
  if (dir === 'policies') return 'policy';
  const doc = parseYamlText(file, text);
  const keys = doc && typeof doc === 'object' && !Array.isArray(doc) ? Object.keys(doc) : [];
  if (keys.includes('environments')) return 'environments';
  if (keys.includes('flags') || keys.includes('segments')) return 'flags';
  if (keys.includes('name') || keys.includes('steps')) return 'policy';
  throw new FileError(
    file,
    '(root)',
    'expected a flags file (top-level "flags" or "segments") or a policy (top-level "name" and "steps"); ' +
      `found ${keys.length ? keys.map((k) => `"${k}"`).join(', ') : 'no keys'}`,
  );
}

export function parseLocalFile(file: string, text: string): LocalFile {
  const kind = kindOf(file, text);
  if (kind === 'environments') return { kind, file, environments: parseEnvironmentsFile(file, text).environments };
  if (kind === 'flags') {
    const { flags, segments } = parseFlagFile(file, text);
    return { kind: 'flags', file, flags, segments };
  }
  return { kind: 'policy', file, policy: parsePolicyFile(file, text).policy };
}

/** A directory's *.yaml, and those of its flags/ and policies/ subdirectories (a repository's layout). */
async function readDir(dir: string, maxBytes: number): Promise<{ files: LocalFile[]; errors: FileError[] }> {
  const results = await Promise.all([dir, path.join(dir, 'flags'), path.join(dir, 'policies')].map((d) => readYamlDir(d, parseLocalFile, { maxBytes })));
  return { files: results.flatMap((r) => r.files), errors: results.flatMap((r) => r.errors) };
}

async function readOne(target: string, maxBytes: number): Promise<{ files: LocalFile[]; errors: FileError[] }> {
  let isDir: boolean;
  try {
    isDir = (await stat(target)).isDirectory();
  } catch {
    return { files: [], errors: [new FileError(target, '(root)', 'no such file or directory')] };
  }
  if (isDir) return readDir(target, maxBytes);
  try {
    // A file named on the command line is held to the rule for files in a directory: its own.
    const text = await readBoundedFile(target, { maxBytes, directory: path.dirname(target) });
    return { files: [parseLocalFile(target, text)], errors: [] };
  } catch (err) {
    if (err instanceof FileError) return { files: [], errors: [err] };
    throw err;
  }
}

/** Names defined twice across the files would make the result depend on file order: refused. */
function duplicates(files: LocalFile[]): FileError[] {
  const seen = new Map<string, string>();
  const errors: FileError[] = [];
  const claim = (key: string, label: string, file: string, field: string) => {
    const first = seen.get(key);
    if (first && first !== file) errors.push(new FileError(file, field, `${label} is also defined in ${first}`));
    else seen.set(key, file);
  };
  for (const f of files) {
    if (f.kind === 'policy') claim(`policy:${f.policy.name}`, `policy "${f.policy.name}"`, f.file, 'name');
    else if (f.kind === 'environments')
      f.environments.forEach((e, i) => claim(`environment:${e.name}`, `environment "${e.name}"`, f.file, `environments[${i}].name`));
    else {
      f.flags.forEach((flag, i) => claim(`flag:${flag.name}`, `flag "${flag.name}"`, f.file, `flags[${i}].name`));
      f.segments.forEach((s, i) => claim(`segment:${s.id}`, `segment ${s.id}`, f.file, `segments[${i}].id`));
    }
  }
  return errors;
}

/**
 * Reads and validates every file named (files or directories); all errors are collected, none thrown.
 * @param maxBytes the largest file read (YAML_FILE_MAX_BYTES, as the controller reads it).
 */
export async function readLocalFiles(targets: string[], maxBytes = DEFAULT_YAML_FILE_MAX_BYTES): Promise<{ files: LocalFile[]; errors: FileError[] }> {
  const results = await Promise.all(targets.map((target) => readOne(target, maxBytes)));
  const files = results.flatMap((r) => r.files);
  return { files, errors: [...results.flatMap((r) => r.errors), ...duplicates(files)] };
}
