import { describe, expect, it } from 'vitest';
import { ensureCliBuilt, runCli } from '../cli/cli-process.js';
import { CONFIG_VARIABLES, expectFileExists, read, yamlFile } from './deploy-files.js';

/**
 * docs/operations.md is only useful while it matches what ships: every alert has its section, and
 * every command, variable, file and link it names exists.
 */
const RUNBOOK = 'docs/operations.md';
const text = read(RUNBOOK);
const codeSpans = [...text.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]!);
const codeBlocks = [...text.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
const headings = text
  .split('\n')
  .filter((l) => l.startsWith('#'))
  .map((l) => l.replace(/^#+\s*/, ''));

/** GitHub's anchor for a heading. */
const anchor = (heading: string) =>
  heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s-]/gu, '')
    .replace(/\s/g, '-');

describe('docs/operations.md', () => {
  it('is linked from the README', () => {
    expect(read('README.md')).toMatch(/\]\(docs\/operations\.md\)/);
  });

  it('explains every alert the Prometheus rules define, under its own heading', () => {
    const alerts = (yamlFile('deploy/prometheus/alerts.yml').groups as Array<{ rules: Array<{ alert?: string }> }>)
      .flatMap((g) => g.rules.map((r) => r.alert))
      .filter(Boolean);
    expect(alerts.length).toBeGreaterThan(0);
    expect(alerts.filter((a) => !headings.includes(a!))).toEqual([]);
  });

  it('links only to its own headings', () => {
    const links = [...text.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1]!);
    expect(links.length).toBeGreaterThan(0);
    expect(links.filter((l) => !headings.map(anchor).includes(l))).toEqual([]);
  });

  it('names only variables the controller or rolloutctl reads', () => {
    const named = new Set(codeSpans.flatMap((s) => s.match(/\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b/g) ?? []));
    const known = [...CONFIG_VARIABLES, 'CONTROLLER_URL', 'ROLLOUT_TOKEN'];
    expect([...named].filter((v) => !known.includes(v))).toEqual([]);
    expect(named.size).toBeGreaterThan(5);
  });

  it('names only files that exist', () => {
    const files = new Set(codeSpans.filter((s) => /^(deploy|src|test|docs)\/[\w./-]+\.\w+$/.test(s)));
    expect(files.size).toBeGreaterThan(3);
    for (const file of files) expectFileExists(file, RUNBOOK);
  });

  it('uses only npm scripts the package has', () => {
    const scripts = Object.keys((JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts);
    const used = new Set([...text.matchAll(/npm run (\w[\w:-]*)/g)].map((m) => m[1]!));
    expect(used.size).toBeGreaterThan(0);
    expect([...used].filter((s) => !scripts.includes(s))).toEqual([]);
  });

  it('uses only rolloutctl commands and options that exist', async () => {
    ensureCliBuilt();
    const uses = [...codeSpans, ...codeBlocks.flatMap((b) => b.split('\n'))]
      .flatMap((s) => [...s.matchAll(/rolloutctl ((?:[a-z][\w-]*)(?: [a-z][\w-]*)?)((?: [^`|;&]*)?)/g)])
      .map((m) => ({ words: m[1]!.split(' '), options: [...(m[2] ?? '').matchAll(/(?:^|\s)(--?[a-z][\w-]*)/g)].map((o) => o[1]!) }));
    expect(uses.length).toBeGreaterThan(5);
    const help = new Map<string, string>();
    const helpOf = async (args: string[]) => {
      const key = args.join(' ');
      if (!help.has(key)) help.set(key, (await runCli([...args, '--help'])).stdout);
      return help.get(key)!;
    };
    const commandsIn = (h: string) => [...h.slice(h.indexOf('Commands:')).matchAll(/^ {2}([a-z][\w-]*)/gm)].map((m) => m[1]!);
    const top = commandsIn(await helpOf([]));
    for (const { words, options } of uses) {
      expect(top, `rolloutctl ${words.join(' ')}`).toContain(words[0]);
      const own = await helpOf([words[0]!]);
      const subcommands = own.includes('Commands:') ? commandsIn(own) : [];
      const command = subcommands.length > 0 ? [words[0]!, words[1]!] : [words[0]!];
      if (subcommands.length > 0) expect(subcommands, `rolloutctl ${words.join(' ')}`).toContain(words[1]);
      const usage = await helpOf(command);
      for (const option of options) expect(usage, `rolloutctl ${command.join(' ')} ${option}`).toContain(option);
    }
  });
});
