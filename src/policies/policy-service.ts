import { createHash } from 'node:crypto';
import type { Store } from '../store/port.js';
import { auditedCommit } from '../audit/audited-commit.js';
import type { Actor } from '../audit/chain.js';
import { AppError } from '../http/app-error.js';
import { FileError, parseYamlFile, readYamlDir } from '../files/yaml-files.js';
import { fileSourceChange } from '../files/file-sources.js';
import { policySchema, type Policy } from './policy-schema.js';

export const POLICIES = 'policies';

export interface PolicyFile {
  file: string;
  hash: string;
  policy: Policy;
}

export function parsePolicyFile(file: string, text: string): PolicyFile {
  const policy = parseYamlFile(file, text, policySchema);
  return { file, policy, hash: createHash('sha256').update(JSON.stringify(policy)).digest('hex') };
}

export const readPolicyFiles = (dir: string) => readYamlDir(dir, parsePolicyFile);

export class PolicyService {
  constructor(
    private readonly store: Store,
    private readonly now: () => Date,
    private readonly awaitApplied: (feedSeq: number) => Promise<void> = async () => {},
  ) {}

  async list(): Promise<Policy[]> {
    return (await this.store.list<Policy>(POLICIES)).map((d) => d.value);
  }

  async get(name: string): Promise<Policy> {
    const doc = await this.store.get<Policy>(POLICIES, name);
    if (!doc) throw AppError.notFound(`policy "${name}"`);
    return doc.value;
  }

  /** Creates or replaces a policy. Running rollouts keep the copy they started with. */
  async put(policy: Policy, actor: Actor, reason?: string, source?: { id: string; hash: string }): Promise<{ policy: Policy; created: boolean }> {
    return auditedCommit(
      this.store,
      async () => {
        const existing = await this.store.get<Policy>(POLICIES, policy.name);
        const sourcePut = source && (await fileSourceChange(this.store, source.id, source.hash));
        if (source && !sourcePut) return { commit: {}, audit: [], result: { policy, created: false } };
        return {
          commit: { puts: [{ collection: POLICIES, id: policy.name, value: policy, expectVersion: existing?.version ?? 0 }, ...(sourcePut ? [sourcePut] : [])] },
          audit: { actor, action: source ? 'policy.file' : 'policy.put', target: { type: 'policy', id: policy.name }, reason, before: existing?.value ?? null, after: policy },
          result: { policy, created: !existing },
        };
      },
      this.now,
      this.awaitApplied,
    );
  }

  /** Applies policies/*.yaml at start, each only when its content changed since it was last applied. */
  async applyFile(file: PolicyFile, relativeName: string): Promise<void> {
    const actor: Actor = { type: 'file', id: relativeName, name: relativeName };
    if (!file.policy.name) throw new FileError(file.file, 'name', 'required');
    await this.put(file.policy, actor, undefined, { id: `policy:${relativeName}`, hash: file.hash });
  }
}
