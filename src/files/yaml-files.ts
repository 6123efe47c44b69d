import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { Composer, type CST, type Document, Lexer, LineCounter, Parser } from 'yaml';
import type { z } from 'zod';
import { describeIssues } from '../validation/issues.js';
import { readBoundedFile, WHOLE_FILE } from './bounded-read.js';
import { FileError, type FileProblem } from './file-error.js';
import { DEFAULT_YAML_FILE_MAX_BYTES, MAX_YAML_ALIAS_COUNT, MAX_YAML_DEPTH } from './file-limits.js';

/**
 * Parses one YAML document into plain data, within bounds: nesting no deeper than MAX_YAML_DEPTH
 * (checked on the parser's output, before the recursive composer could overflow the stack) and
 * aliases expanding no further than MAX_YAML_ALIAS_COUNT. Every problem is a FileError naming the file.
 */
export function parseYamlText(file: string, text: string): unknown {
  const lines = new LineCounter();
  const lineOf = (offset: number) => `line ${lines.linePos(offset).line}`;
  const { tokens, deepAt } = parseCst(text, lines);
  const deep = deepAt ?? tokens.map(tooDeepAt).find((offset) => offset !== undefined);
  if (deep !== undefined) throw new FileError(file, lineOf(deep), `nested more than ${MAX_YAML_DEPTH} levels deep: not read`);

  const docs: Document.Parsed[] = Array.from(new Composer().compose(tokens, true, text.length));
  const [doc, second] = docs;
  if (!doc) throw new FileError(file, WHOLE_FILE, 'holds no YAML document');
  const problems: FileProblem[] = doc.errors.map((e) => ({ fieldPath: lineOf(e.pos[0]), problem: `not valid YAML: ${e.message.split('\n')[0]}` }));
  if (second) problems.push({ fieldPath: lineOf(second.range[0]), problem: 'not valid YAML: a second document (after ---); a file holds one' });
  if (problems.length > 0) throw FileError.of(file, problems);
  try {
    return doc.toJS({ maxAliasCount: MAX_YAML_ALIAS_COUNT });
  } catch (err) {
    // The yaml package's alias check throws a ReferenceError ("Excessive alias count …").
    if (err instanceof ReferenceError) throw new FileError(file, WHOLE_FILE, `aliases expand too far (over ${MAX_YAML_ALIAS_COUNT}; an alias bomb?): not read`);
    throw new FileError(file, WHOLE_FILE, `not valid YAML: ${(err as Error).message}`);
  }
}

/**
 * The parser's output (as Parser.parse gives it), token by token, so that a file nested far too deep
 * is given up early: its stack holds every collection open around the current token, and parsing
 * the rest of a megabyte of "[[[[" would take seconds. tooDeepAt then checks the exact depth.
 */
function parseCst(text: string, lines: LineCounter): { tokens: CST.Token[]; deepAt?: number } {
  const parser = new Parser(lines.addNewLine);
  const tokens: CST.Token[] = [];
  lines.addNewLine(0);
  for (const lexeme of new Lexer().lex(text)) {
    tokens.push(...parser.next(lexeme));
    if (parser.stack.length > 2 * MAX_YAML_DEPTH) return { tokens, deepAt: parser.stack.at(-1)?.offset ?? 0 };
  }
  tokens.push(...parser.end());
  return { tokens };
}

/** Where a top-level token first nests collections deeper than MAX_YAML_DEPTH (its offset), walked without recursion. */
function tooDeepAt(token: CST.Token): number | undefined {
  const pending: Array<[token: CST.Token | null | undefined, depth: number]> = [[token.type === 'document' ? token.value : token, 0]];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [node, depth] = next;
    if (!node || !('items' in node)) continue;
    if (depth + 1 > MAX_YAML_DEPTH) return node.offset;
    for (const item of node.items) pending.push([item.key, depth + 1], [item.value, depth + 1]);
  }
  return undefined;
}

/** Parses YAML and validates it whole; every problem is reported at once, each with its field path. */
export function parseYamlFile<S extends z.ZodType>(file: string, text: string, schema: S): z.output<S> {
  const parsed = schema.safeParse(parseYamlText(file, text) ?? {});
  if (!parsed.success)
    throw FileError.of(
      file,
      // Every issue, for the count of those left unlisted; each one's path and message bounded in length.
      describeIssues(parsed.error, '', parsed.error.issues.length).map((issue) => ({ fieldPath: issue.path, problem: issue.message })),
    );
  return parsed.data;
}

export interface YamlDirOptions {
  /** The largest file read (YAML_FILE_MAX_BYTES). */
  maxBytes?: number;
  /** Files in the directory that are not of this kind (the environments file may sit among the policies). */
  skip?: (file: string) => boolean;
}

/**
 * Reads every *.yaml / *.yml in a directory, each with readBoundedFile's checks. Good files load;
 * each bad one (unreadable, too large, not a regular file inside the directory, not valid) is
 * reported, not thrown. A missing directory holds no files; one that cannot be listed is reported.
 */
export async function readYamlDir<T>(
  dir: string,
  parse: (file: string, text: string) => T,
  { maxBytes = DEFAULT_YAML_FILE_MAX_BYTES, skip = () => false }: YamlDirOptions = {},
): Promise<{ files: T[]; errors: FileError[] }> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => /\.ya?ml$/.test(n)).sort();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { files: [], errors: [] };
    return { files: [], errors: [new FileError(dir, WHOLE_FILE, `the directory cannot be listed: ${code ?? (err as Error).message}`)] };
  }
  const files: T[] = [];
  const errors: FileError[] = [];
  for (const name of names) {
    const file = path.join(dir, name);
    if (skip(file)) continue;
    try {
      files.push(parse(file, await readBoundedFile(file, { maxBytes, directory: dir })));
    } catch (err) {
      if (err instanceof FileError) errors.push(err);
      else throw err;
    }
  }
  return { files, errors };
}
