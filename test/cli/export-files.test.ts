import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compactDefinition, fileDefinition, planExport } from '../../src/cli/export-files.js';
import { parseFlagFile } from '../../src/flags/flag-files.js';
import { flagDefinitionSchema, storedFlagSchema } from '../../src/flags/schema.js';

/** What rolloutctl export writes, without a controller: the repository's own flag file as the served state. */

const FILE = path.resolve(import.meta.dirname, '../../flags/checkout.yaml');
const text = readFileSync(FILE, 'utf8');
const parsed = parseFlagFile(FILE, text);

/** The file's first flag as stored after a rollout took its first flexibleRollout strategy to 50%. */
function served() {
  const flag = storedFlagSchema.parse({ ...parsed.flags[0], killSwitches: { production: { reason: 'r', actor: 'a', at: 't' } } });
  const [owned, ...rest] = flag.environments.production!.strategies;
  flag.environments.production!.strategies = [{ ...owned!, id: 'rollout:abc', parameters: { ...owned!.parameters, rollout: '50' } }, ...rest];
  return flag;
}

describe('rolloutctl export files', () => {
  it('a compact definition parses back to exactly the definition', () => {
    for (const flag of parsed.flags) {
      const compact = compactDefinition(flag);
      expect(flagDefinitionSchema.parse(compact)).toEqual(flag);
      expect(compact).not.toHaveProperty('project');
    }
  });

  it('leaves out kill switches and owned strategy ids, keeps other strategy ids', () => {
    const flag = served();
    flag.environments.staging!.strategies[0]!.id = 'imported-from-unleash';
    const definition = fileDefinition(flag);
    expect(definition).not.toHaveProperty('killSwitches');
    expect(definition.environments.production!.strategies[0]).not.toHaveProperty('id');
    expect(definition.environments.staging!.strategies[0]!.id).toBe('imported-from-unleash');
  });

  it('replaces the flag in the file that holds it, keeping the rest of the file and its comments; an unchanged flag writes nothing', () => {
    const [planned] = planExport('flags', [fileDefinition(served())], [{ file: FILE, text, flags: parsed.flags }]);
    expect(planned).toMatchObject({ file: FILE, created: false, flags: ['new-checkout'] });
    expect(planned!.text.startsWith('# The new checkout flow')).toBe(true);
    expect(planned!.text).toContain('caseInsensitive: true }');
    const back = parseFlagFile(FILE, planned!.text);
    expect(back.flags[0]!.environments.production!.strategies[0]!.parameters.rollout).toBe('50');
    expect(back.flags.slice(1)).toEqual(parsed.flags.slice(1));
    expect(back.segments).toEqual(parsed.segments);
    expect(planExport('flags', parsed.flags, [{ file: FILE, text, flags: parsed.flags }])).toEqual([]);
  });

  it('writes a flag no file holds to <dir>/<name>.yaml', () => {
    const planned = planExport('out', [fileDefinition(served())], []);
    expect(planned.map((p) => [p.file, p.created])).toEqual([[path.join('out', 'new-checkout.yaml'), true]]);
    expect(parseFlagFile('x', planned[0]!.text).flags).toEqual([fileDefinition(served())]);
  });
});
