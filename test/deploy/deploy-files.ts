import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { expect } from 'vitest';
import { configSchema } from '../../src/config/config.js';

/** Readers for the deploy files, so the tests check what a Docker engine or a cluster would read. */

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const DEPLOY = path.join(ROOT, 'deploy');

export function read(relative: string): string {
  return readFileSync(path.join(ROOT, relative), 'utf8');
}

/** Every YAML document of a file, with merge keys (`<<: *anchor`) resolved as Compose does. */
export function yamlDocuments(relative: string): any[] {
  const docs = parseAllDocuments(read(relative), { merge: true });
  for (const doc of docs) expect(doc.errors, `${relative}: ${doc.errors.join('; ')}`).toEqual([]);
  return docs.map((doc) => doc.toJS({ maxAliasCount: -1 })).filter((doc) => doc !== null);
}

export function yamlFile(relative: string): any {
  const [doc] = yamlDocuments(relative);
  return doc;
}

export interface DockerInstruction {
  /** Upper-case keyword: FROM, RUN, COPY, ENV, ... */
  keyword: string;
  args: string;
  line: number;
}

/** A Dockerfile as instructions: comments dropped, `\` continuations joined. */
export function dockerInstructions(relative: string): DockerInstruction[] {
  const out: DockerInstruction[] = [];
  let pending = '';
  let startLine = 0;
  read(relative)
    .split('\n')
    .forEach((raw, i) => {
      const line = raw.trim();
      if (pending === '' && (line === '' || line.startsWith('#'))) return;
      if (pending === '') startLine = i + 1;
      if (line.startsWith('#')) return; // a comment inside a continued instruction
      pending += `${line.replace(/\\$/, '').trim()} `;
      if (line.endsWith('\\')) return;
      const text = pending.trim();
      pending = '';
      const space = text.search(/\s/);
      out.push({ keyword: text.slice(0, space).toUpperCase(), args: text.slice(space + 1).trim(), line: startLine });
    });
  expect(pending, `${relative}: ends inside a continued line`).toBe('');
  return out;
}

/** `KEY=value KEY2="v 2"` (the ENV and ARG forms) as pairs. */
export function keyValues(args: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|\S*)/g)) {
    out[m[1]!] = m[2]!.startsWith('"') ? (JSON.parse(m[2]!) as string) : m[2]!;
  }
  return out;
}

/** An exec-form instruction (`["a", "b"]`) as its argument list; shell form fails the test. */
export function execForm(instruction: DockerInstruction): string[] {
  expect(instruction.args.startsWith('['), `line ${instruction.line}: ${instruction.keyword} in exec form`).toBe(true);
  return JSON.parse(instruction.args) as string[];
}

export const CONFIG_VARIABLES = Object.keys(configSchema.shape);

/**
 * Environment a deploy file gives the controller: every name must be one the controller reads,
 * and together they must pass its own validation (as at start-up). `${VAR:?…}` and `${VAR:-default}`
 * (Compose interpolation) stand for a value supplied at deploy time: a sample that fits.
 */
export function expectValidControllerEnv(where: string, env: Record<string, string>): ReturnType<typeof configSchema.parse> {
  const unknown = Object.keys(env).filter((name) => !CONFIG_VARIABLES.includes(name));
  expect(unknown, `${where}: variables the controller does not read (src/config/config.ts)`).toEqual([]);
  const resolved = Object.fromEntries(
    Object.entries(env).map(([k, v]) => [
      k,
      String(v)
        .replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1')
        .replace(/\$\{[A-Z_]+(:?\?[^}]*)?\}/g, 'sample-secret-value-0123456789abcdef'),
    ]),
  );
  const parsed = configSchema.safeParse(resolved);
  expect(parsed.success ? [] : parsed.error.issues.map((i) => `${String(i.path[0])}: ${i.message}`), `${where}: values the controller would refuse`).toEqual(
    [],
  );
  return parsed.data!;
}

export function expectFileExists(relative: string, why: string): void {
  expect(existsSync(path.join(ROOT, relative)), `${why}: ${relative} is missing`).toBe(true);
}

/** The command the README gives to run the controller (`npm start` after `npm ci &&`). */
export function readmeRunCommand(): string {
  const line = read('README.md')
    .split('\n')
    .find((l) => /^npm ci && npm start\b/.test(l.trim()));
  expect(line, 'README: the run command').toBeDefined();
  return line!.split('#')[0]!.replace('npm ci &&', '').trim();
}

/** What `npm start` runs: package.json's start script. */
export function startScript(): string {
  return (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts.start!;
}
