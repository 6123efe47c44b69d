import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Store } from '../store/port.js';
import { auditedCommit } from '../audit/audited-commit.js';
import type { Actor } from '../audit/chain.js';
import { AppError } from '../errors/app-error.js';
import { FileError } from '../files/file-error.js';
import { parseYamlFile, readYamlDir, type YamlDirOptions } from '../files/yaml-files.js';
import { fileSourceChange } from '../files/file-sources.js';
import { policySchema, type Policy } from './policy-schema.js';

export const POLICIES = 'policies';
/** Policies editors proposed, waiting for an admin; nobody follows them, so they stay off the change feed. */
export const POLICY_PROPOSALS = 'policy-proposals';

export interface PolicyProposal {
  id: string;
  policy: Policy;
  /** Who proposed it, as the audit log names them. */
  by: string;
  at: string;
}

/** A stored proposal, as a restore checks it. */
export const policyProposalSchema = z.object({ id: z.string().min(1), policy: policySchema, by: z.string(), at: z.string() });

export interface PolicyFile {
  file: string;
  hash: string;
  policy: Policy;
}

export function parsePolicyFile(file: string, text: string): PolicyFile {
  const policy = parseYamlFile(file, text, policySchema);
  return { file, policy, hash: createHash('sha256').update(JSON.stringify(policy)).digest('hex') };
}

/** `options.skip`: files in the directory that are not policies (the environments file may live there). */
export const readPolicyFiles = (dir: string, options: YamlDirOptions = {}) => readYamlDir(dir, parsePolicyFile, options);

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
          commit: {
            puts: [{ collection: POLICIES, id: policy.name, value: policy, expectVersion: existing?.version ?? 0 }, ...(sourcePut ? [sourcePut] : [])],
          },
          audit: {
            actor,
            action: source ? 'policy.file' : 'policy.put',
            target: { type: 'policy', id: policy.name },
            reason,
            before: existing?.value ?? null,
            after: policy,
          },
          result: { policy, created: !existing },
        };
      },
      this.now,
      this.awaitApplied,
    );
  }

  /**
   * An editor's policy change: stored as a proposal and audited (policy.proposed, with the
   * stored policy as before and the proposal as after), applied only when an admin accepts it.
   */
  async propose(policy: Policy, actor: Actor, reason?: string): Promise<PolicyProposal> {
    const proposal: PolicyProposal = { id: randomUUID(), policy, by: actor.name, at: this.now().toISOString() };
    return auditedCommit(
      this.store,
      async () => {
        const existing = await this.store.get<Policy>(POLICIES, policy.name);
        return {
          commit: { puts: [{ collection: POLICY_PROPOSALS, id: proposal.id, value: proposal, expectVersion: 0, quiet: true }] },
          audit: {
            actor,
            action: 'policy.proposed',
            target: { type: 'policy', id: policy.name },
            reason: reason ?? `proposal ${proposal.id}`,
            before: existing?.value ?? null,
            after: policy,
          },
          result: proposal,
        };
      },
      this.now,
      this.awaitApplied,
    );
  }

  async proposals(): Promise<PolicyProposal[]> {
    return (await this.store.list<PolicyProposal>(POLICY_PROPOSALS)).map((d) => d.value).sort((a, b) => a.at.localeCompare(b.at));
  }

  /** Accepting writes the proposed policy (audited policy.put naming the proposal) and removes the proposal, in one commit. */
  async decideProposal(id: string, accept: boolean, actor: Actor, reason?: string): Promise<{ policy: Policy; created: boolean }> {
    return auditedCommit(
      this.store,
      async () => {
        const doc = await this.store.get<PolicyProposal>(POLICY_PROPOSALS, id);
        if (!doc) throw AppError.notFound(`policy proposal "${id}"`);
        const { policy, by } = doc.value;
        const existing = await this.store.get<Policy>(POLICIES, policy.name);
        const why = `${accept ? 'accepted' : 'rejected'} proposal ${id} by ${by}${reason ? `: ${reason}` : ''}`;
        const remove = { collection: POLICY_PROPOSALS, id, expectVersion: doc.version, quiet: true };
        if (!accept) {
          return {
            commit: { deletes: [remove] },
            audit: {
              actor,
              action: 'policy.proposal.reject',
              target: { type: 'policy', id: policy.name },
              reason: why,
              before: existing?.value ?? null,
              after: existing?.value ?? null,
            },
            result: { policy, created: false },
          };
        }
        return {
          commit: { puts: [{ collection: POLICIES, id: policy.name, value: policy, expectVersion: existing?.version ?? 0 }], deletes: [remove] },
          audit: { actor, action: 'policy.put', target: { type: 'policy', id: policy.name }, reason: why, before: existing?.value ?? null, after: policy },
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
