import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { yamlFileMaxBytes } from '../../src/cli/context.js';
import { CliError } from '../../src/cli/exit-codes.js';
import { readLocalFiles } from '../../src/cli/local-files.js';
import { loadConfig } from '../../src/config/config.js';
import { readEnvironmentsFile } from '../../src/environments/environment-files.js';
import { FileError } from '../../src/files/file-error.js';
import { parseYamlText } from '../../src/files/yaml-files.js';
import { caller, spawnController, type ControllerProcess } from '../support/controller-process.js';

/**
 * Issue 13, defect 7: "some bad files stop the controller". A YAML alias bomb stopped start-up
 * naming no file, a directory named x.yaml gave EISDIR, a symlink to /dev/zero `Invalid string
 * length`, a 50 MB flag file was served on every poll, and symlinks out of the directory were
 * followed. Each bad file must be skipped with an ERROR naming it and why; the controller starts
 * with the rest.
 */

const ROOT = path.resolve(import.meta.dirname, '../..');
const flagFile = (name: string) => `flags:\n  - name: ${name}\n    environments:\n      production: { enabled: true, strategies: [{ name: default }] }\n`;

/** Nine levels of nine aliases each: 9^7 strings once expanded, from a few hundred bytes. */
const ALIAS_BOMB = [
  'flags: &a ["x","x","x","x","x","x","x","x","x"]',
  ...['b', 'c', 'd', 'e', 'f', 'g'].map((name, i) => {
    const previous = String.fromCharCode('a'.charCodeAt(0) + i);
    return `${name}: &${name} [${Array(9).fill(`*${previous}`).join(',')}]`;
  }),
  '',
].join('\n');

interface LogLine {
  level: number;
  msg: string;
  file?: string;
}

describe('bad files in FLAGS_DIR and POLICIES_DIR (issue 13, defect 7)', () => {
  const flagsDir = mkdtempSync(path.join(os.tmpdir(), 'rc-badflags-'));
  const policiesDir = mkdtempSync(path.join(os.tmpdir(), 'rc-badpolicies-'));
  const outside = mkdtempSync(path.join(os.tmpdir(), 'rc-outside-'));
  const bad = (name: string) => path.join(flagsDir, name);
  const adminToken = `admin-${randomBytes(16).toString('hex')}`;
  let ctl: ControllerProcess;
  let errors: LogLine[];

  beforeAll(async () => {
    writeFileSync(bad('good.yaml'), flagFile('good-flag'));
    // A Kubernetes ConfigMap mount: each file a symlink into ..data inside the directory. Still read.
    mkdirSync(bad('..data'));
    writeFileSync(bad('..data/mounted.yaml'), flagFile('mounted-flag'));
    symlinkSync('..data/mounted.yaml', bad('mounted.yaml'));

    writeFileSync(bad('alias-bomb.yaml'), ALIAS_BOMB);
    mkdirSync(bad('a-directory.yaml'));
    symlinkSync('/dev/zero', bad('dev-zero.yaml'));
    writeFileSync(path.join(outside, 'elsewhere.yaml'), flagFile('outside-flag'));
    symlinkSync(path.join(outside, 'elsewhere.yaml'), bad('outside.yaml'));
    symlinkSync(path.join(outside, 'missing.yaml'), bad('dangling.yaml'));
    // A valid flag file of 1.2 MB, over the 1 MiB default: its flags would be served on every poll.
    writeFileSync(bad('oversize.yaml'), `flags:\n  - name: huge-flag\n    description: "${'x'.repeat(1_200_000)}"\n    environments: {}\n`);
    writeFileSync(bad('deep.yaml'), `flags: ${'['.repeat(5_000)}${']'.repeat(5_000)}\n`);
    writeFileSync(bad('latin1.yaml'), Buffer.concat([Buffer.from('flags:\n  - name: caf'), Buffer.from([0xe9]), Buffer.from('\n')]));
    // A named pipe nobody writes to: reading it would wait forever.
    expect(spawnSync('mkfifo', [bad('fifo.yaml')]).status).toBe(0);

    writeFileSync(path.join(policiesDir, 'standard.yaml'), readFileSync(path.join(ROOT, 'policies/standard.yaml')));
    writeFileSync(path.join(policiesDir, 'bomb.yaml'), ALIAS_BOMB.replace('flags:', 'name:'));

    ctl = await spawnController({
      REDIS_URL: '',
      DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'rc-badfiles-data-')),
      ADMIN_TOKEN: adminToken,
      FLAGS_DIR: flagsDir,
      POLICIES_DIR: policiesDir,
    });
    errors = ctl
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as LogLine)
      .filter((line) => line.level >= 50);
  }, 60_000);

  afterAll(async () => {
    await ctl?.stop();
  });

  it('starts and serves the good flags only', async () => {
    const api = caller(adminToken);
    const flags = (await (await api(ctl.url, 'GET', '/api/admin/flags')).json()).flags.map((f: { name: string }) => f.name);
    expect(flags.sort()).toEqual(['good-flag', 'mounted-flag']);
    const policies = (await (await api(ctl.url, 'GET', '/api/admin/policies')).json()).policies.map((p: { name: string }) => p.name);
    expect(policies).toEqual(['standard']);
  });

  it.each([
    ['alias-bomb.yaml', /aliases expand too far/],
    ['a-directory.yaml', /is a directory, not a regular file/],
    ['dev-zero.yaml', /is a symlink to \/dev\/zero, outside .*: not read/],
    ['outside.yaml', /is a symlink to .*elsewhere\.yaml, outside .*: not read/],
    ['dangling.yaml', /is a symlink to a file that does not exist/],
    ['oversize.yaml', /is 1200\d{3} bytes, over the limit of 1048576 \(YAML_FILE_MAX_BYTES\)/],
    ['deep.yaml', /nested more than 32 levels deep/],
    ['latin1.yaml', /is not UTF-8 text/],
    ['fifo.yaml', /is a named pipe \(FIFO\), not a regular file/],
  ])('logged an ERROR naming %s and why', (name, why) => {
    const file = bad(name);
    const logged = errors.filter((e) => e.file === file);
    expect(logged, `no ERROR for ${file} among:\n${errors.map((e) => e.msg).join('\n')}`).toHaveLength(1);
    expect(logged[0]!.msg).toContain(`flag file not loaded: ${file}: `);
    expect(logged[0]!.msg).toMatch(why);
  });

  it('logged an ERROR naming the alias bomb among the policies', () => {
    const file = path.join(policiesDir, 'bomb.yaml');
    expect(errors.find((e) => e.file === file)?.msg).toMatch(new RegExp(`^policy file not loaded: ${file}: .*aliases expand too far`));
  });
});

describe('the same reader for the environments file and rolloutctl apply (issue 13, defect 7)', () => {
  const problemOf = async (read: Promise<unknown>) =>
    read.then(
      () => 'read',
      (err: unknown) => (err instanceof FileError ? err.message : `not a FileError: ${String(err)}`),
    );

  it('the environments file: missing declares nothing; a symlink out of its directory, to /dev/zero or to nowhere, a directory or an oversize file is an error naming it', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'rc-envfile-'));
    const file = (name: string) => path.join(dir, name);
    expect(await readEnvironmentsFile(file('missing.yaml'))).toBeNull();
    symlinkSync('/dev/zero', file('zero.yaml'));
    expect(await problemOf(readEnvironmentsFile(file('zero.yaml')))).toMatch(/zero\.yaml: \(file\): is a symlink to \/dev\/zero, outside .*: not read/);
    symlinkSync(file('gone.yaml'), file('dangling.yaml'));
    expect(await problemOf(readEnvironmentsFile(file('dangling.yaml')))).toMatch(/dangling\.yaml: \(file\): is a symlink to a file that does not exist/);
    mkdirSync(file('dir.yaml'));
    expect(await problemOf(readEnvironmentsFile(file('dir.yaml')))).toMatch(/dir\.yaml: \(file\): is a directory, not a regular file/);
    writeFileSync(file('big.yaml'), `# ${'x'.repeat(5_000)}\nenvironments: [{ name: production }]\n`);
    expect(await problemOf(readEnvironmentsFile(file('big.yaml'), 4_096))).toMatch(/big\.yaml: \(file\): is 50\d\d bytes, over the limit of 4096/);
    expect((await readEnvironmentsFile(file('big.yaml')))?.environments.map((e) => e.name)).toEqual(['production']);
  });

  it('rolloutctl apply reads a directory, or a file named alone, with the same checks', async () => {
    const repo = mkdtempSync(path.join(os.tmpdir(), 'rc-apply-'));
    const outside = mkdtempSync(path.join(os.tmpdir(), 'rc-apply-outside-'));
    mkdirSync(path.join(repo, 'flags'));
    writeFileSync(path.join(repo, 'flags', 'good.yaml'), flagFile('good-flag'));
    writeFileSync(path.join(repo, 'flags', 'bomb.yaml'), ALIAS_BOMB);
    symlinkSync('/dev/zero', path.join(repo, 'flags', 'zero.yaml'));
    writeFileSync(path.join(outside, 'secret.yaml'), flagFile('outside-flag'));
    symlinkSync(path.join(outside, 'secret.yaml'), path.join(repo, 'linked.yaml'));
    writeFileSync(path.join(repo, 'big.yaml'), flagFile(`big-${'x'.repeat(2_000)}`));

    const { files, errors } = await readLocalFiles([repo], 1_024);
    expect(files.map((f) => f.kind === 'flags' && f.flags.map((flag) => flag.name))).toEqual([['good-flag']]);
    expect(errors.map((e) => e.message).sort()).toEqual([
      expect.stringMatching(/big\.yaml: \(file\): is \d+ bytes, over the limit of 1024 \(YAML_FILE_MAX_BYTES\): not read$/),
      expect.stringMatching(/flags\/bomb\.yaml: \(file\): aliases expand too far/),
      expect.stringMatching(/flags\/zero\.yaml: \(file\): is a symlink to \/dev\/zero, outside /),
      expect.stringMatching(/linked\.yaml: \(file\): is a symlink to .*secret\.yaml, outside /),
    ]);
    // Named alone, a symlink is held to its own directory, as the environments file is.
    const alone = await readLocalFiles([path.join(repo, 'flags', 'zero.yaml')]);
    expect(alone.errors.map((e) => e.problem)).toEqual([expect.stringMatching(/^is a symlink to \/dev\/zero, outside /)]);
  });

  it('YAML_FILE_MAX_BYTES is read alike by the controller and rolloutctl, and checked', () => {
    expect(loadConfig({}).YAML_FILE_MAX_BYTES).toBe(1_048_576);
    expect(loadConfig({ YAML_FILE_MAX_BYTES: '65536' }).YAML_FILE_MAX_BYTES).toBe(65_536);
    expect(() => loadConfig({ YAML_FILE_MAX_BYTES: 'lots' })).toThrow(/^invalid configuration: YAML_FILE_MAX_BYTES: /);
    expect(yamlFileMaxBytes({})).toBe(1_048_576);
    expect(yamlFileMaxBytes({ YAML_FILE_MAX_BYTES: '65536' })).toBe(65_536);
    expect(() => yamlFileMaxBytes({ YAML_FILE_MAX_BYTES: '10' })).toThrow(CliError);
  });

  it('YAML text: nesting is bounded before it is composed, aliases within reason still work, one document a file', () => {
    const problem = (text: string) => {
      try {
        parseYamlText('f.yaml', text);
        return 'parsed';
      } catch (err) {
        return (err as FileError).message;
      }
    };
    expect(problem(`a: 1\nb:\n${'  '.repeat(1)}${Array.from({ length: 40 }, (_, i) => `${'  '.repeat(i + 1)}k${i}:`).join('\n')} 1\n`)).toMatch(
      /^f\.yaml: line \d+: nested more than 32 levels deep: not read$/,
    );
    expect(problem(`${'- '.repeat(33)}x\n`)).toMatch(/^f\.yaml: line 1: nested more than 32 levels deep/);
    expect(problem(`${'- '.repeat(32)}x\n`)).toBe('parsed');
    expect(parseYamlText('f.yaml', 'shared: &s { enabled: true }\nproduction: *s\nstaging: *s\n')).toEqual({
      shared: { enabled: true },
      production: { enabled: true },
      staging: { enabled: true },
    });
    expect(problem('a: 1\n---\nb: 2\n')).toBe('f.yaml: line 2: not valid YAML: a second document (after ---); a file holds one');
  });
});
