import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { readYamlDir } from '../files/yaml-files.js';
import type { StoredFlag } from '../flags/schema.js';
import { contextOf, yamlFileMaxBytes } from './context.js';
import { CliError, EXIT } from './exit-codes.js';
import { fileDefinition, notWritable, planExport, type ExistingFile } from './export-files.js';
import { parseLocalFile } from './local-files.js';
import { note, printJson } from './output.js';
import { forEnvironment } from '../flags/per-environment.js';

/** The flags files already in `dir`, with their text (kept, comments and all, where nothing changes). */
async function existingFiles(dir: string): Promise<ExistingFile[]> {
  const { files, errors } = await readYamlDir(dir, (file, text) => ({ parsed: parseLocalFile(file, text), text }), { maxBytes: yamlFileMaxBytes() });
  // Writing next to a file that does not load could leave two definitions of a flag: refuse instead.
  if (errors.length)
    throw new CliError(
      `${errors.length} invalid file(s) in ${dir}; nothing was written`,
      EXIT.usage,
      errors.map((e) => e.message),
    );
  return files.flatMap(({ parsed, text }) => (parsed.kind === 'flags' ? [{ file: parsed.file, text, flags: parsed.flags }] : []));
}

export function registerExport(program: Command): void {
  program
    .command('export')
    .description('Write the flags as the controller serves them back into flag files (percentages set by rollouts included), so git follows the controller')
    .option('-e, --env <environment>', 'only the flags configured in this environment (each file still holds the whole flag)')
    .option('-d, --dir <dir>', 'the flags directory to write into', 'flags')
    .addHelpText(
      'after',
      `
A flag that a *.yaml file in the directory already defines is replaced in that file, in place: the
rest of the file (other flags, segments, comments) stays as it is, and a file whose flags already
say what is served is not touched. Any other flag is written to <dir>/<flag>.yaml. A flag imported
with what a flag file cannot hold (an unknown operator, a bad regular expression, a missing segment,
a name outside letters, digits and _ . ~ -) is not written; the export names it and why. Files hold whole
flags, every environment, so that applying one changes nothing else: --env only chooses which flags.
Kill switches are not part of files and are not written. \`rolloutctl apply -f <dir>\` right after
an export plans nothing to apply.`,
    )
    .action(async (opts: { env?: string; dir: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const { flags } = await ctx.client.call<{ flags: StoredFlag[] }>('GET', '/api/admin/flags');
      const all = opts.env ? flags.filter((f) => forEnvironment(f.environments, opts.env!)) : flags;
      const refused = all.flatMap((f) => {
        const problem = notWritable(f);
        return problem ? [{ flag: f.name, problem }] : [];
      });
      const chosen = all.filter((f) => !refused.some((r) => r.flag === f.name));
      const existing = await existingFiles(opts.dir);
      const planned = planExport(opts.dir, chosen.map(fileDefinition), existing);
      await mkdir(opts.dir, { recursive: true });
      for (const f of planned) await writeFile(f.file, f.text);
      const written = new Set(planned.flatMap((f) => f.flags));
      const killed = chosen.flatMap((f) =>
        Object.keys(f.killSwitches)
          .filter((env) => !opts.env || env === opts.env)
          .map((environment) => ({ flag: f.name, environment })),
      );
      if (ctx.json) {
        printJson({
          dir: path.resolve(opts.dir),
          files: planned.map(({ text: _t, ...f }) => f),
          unchanged: chosen.filter((f) => !written.has(f.name)).map((f) => f.name),
          killed,
          notWritable: refused,
        });
        return;
      }
      for (const f of planned) note(`${f.created ? 'wrote' : 'updated'} ${f.file}: ${f.flags.join(', ')}`);
      note(`${written.size} of ${all.length} flag(s) written; the others already read as served${refused.length ? ' or cannot be written' : ''}.`);
      for (const r of refused) note(`not written: ${r.flag}: a flag file could not hold it (${r.problem}); it was imported as it came`);
      for (const k of killed)
        note(`note: ${k.flag} is killed in ${k.environment}; kill switches are not part of files (the file says what is served once restored)`);
    });
}
