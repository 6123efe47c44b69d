import { stepPlans } from '../../policies/policy-schema.js';
import { isDone, isWatching, type Approval, type DecisionInput, type Person, type Rollout, type Transition } from '../../rollouts/rollout-model.js';

/**
 * What really happened to a stored rollout, read from its history (pure): the percentage its flag
 * served over time, what people did and when, and the windows its recorded sample counts cover.
 * The replay (replay-rollout.ts) steps a policy along this timeline.
 */

/** A person's command as it was given, to be given again to the replayed rollout. */
export type PersonAction =
  | { kind: 'approve'; at: number; by: Person; percentage: number; comment?: string }
  | { kind: 'pause' | 'resume' | 'reject' | 'abort'; at: number; by: Person; comment?: string };

/** A window of one step and the requests the rollout counted in it by `to` (a transition's `samples`). */
export interface CountedWindow {
  percentage: number;
  from: number;
  to: number;
  samples: { treatment: number; control: number };
}

export interface RealTimeline {
  start: number;
  /** The last transition of a done rollout; the end of its watch, or now, while it is still active. */
  end: number;
  /** When the served percentage changed, and to what, in time order (0 at the start). */
  served: Array<{ at: number; percentage: number }>;
  actions: PersonAction[];
  counted: CountedWindow[];
}

/** The percentage the flag served at `at`: a rolled-back or aborted rollout serves nobody. */
export function servedAt(timeline: Pick<RealTimeline, 'served'>, at: number): { percentage: number; since: number } {
  let current = timeline.served[0]!;
  for (const change of timeline.served) {
    if (change.at > at) break;
    current = change;
  }
  return { percentage: current.percentage, since: current.at };
}

export function servedAfter(t: Pick<Transition, 'to' | 'percentage'>): number {
  return t.to === 'rolled_back' || t.to === 'aborted' || t.to === 'pending' ? 0 : t.percentage;
}

/** The person a history entry names: only their name is kept there (approvals keep the whole person). */
function named(actor: string): Person {
  return { id: `name:${actor}`, name: actor };
}

/** What a person typed after "paused by <name>: ", or undefined. */
function commentOf(reason: string, prefix: string): string | undefined {
  return reason.startsWith(`${prefix}: `) ? reason.slice(prefix.length + 2) : undefined;
}

/**
 * People's commands in a history entry. decide.ts words them "paused by <name>", "rejected by
 * <name>", "resumed by <name>" and "aborted by <name>"; a pause the controller made (a step past its
 * maximum duration) is the policy's doing and is not replayed as a command.
 */
function commandOf(t: Transition): PersonAction | undefined {
  if (t.actor === 'controller') return undefined;
  const at = Date.parse(t.at);
  const by = named(t.actor);
  for (const kind of ['paused', 'rejected', 'resumed', 'aborted'] as const) {
    const prefix = `${kind} by ${t.actor}`;
    if (t.reason !== prefix && !t.reason.startsWith(`${prefix}: `)) continue;
    const comment = commentOf(t.reason, prefix);
    const action = ({ paused: 'pause', rejected: 'reject', resumed: 'resume', aborted: 'abort' } as const)[kind];
    return { kind: action, at, by, ...(comment ? { comment } : {}) };
  }
  return undefined;
}

/** Every approval given (those a pause made void included), as the percentage it was for. */
function approvalsOf(r: Rollout): PersonAction[] {
  const plans = stepPlans(r.plan);
  const all: Approval[] = [...r.approvals, ...r.history.flatMap((t) => t.voidedApprovals ?? [])];
  const seen = new Set<string>();
  const out: PersonAction[] = [];
  for (const a of all) {
    const key = `${a.by.id}\t${a.step}\t${a.at}`;
    if (seen.has(key) || !plans[a.step]) continue;
    seen.add(key);
    out.push({ kind: 'approve', at: Date.parse(a.at), by: a.by, percentage: plans[a.step]!.percentage, ...(a.comment ? { comment: a.comment } : {}) });
  }
  return out;
}

export function realTimeline(r: Rollout, now: number): RealTimeline {
  const start = Date.parse(r.createdAt);
  const served: RealTimeline['served'] = [{ at: start, percentage: 0 }];
  const counted: CountedWindow[] = [];
  let stepStart = start;
  let percentage = 0;
  for (const t of r.history) {
    const at = Date.parse(t.at);
    // An entry that enters a step carries the samples of the step it leaves: counted before the step moves.
    if (t.samples) counted.push({ percentage, from: stepStart, to: at, samples: t.samples });
    const next = servedAfter(t);
    // A step's window starts when it is entered (the percentage changes) and again on a resume.
    if (t.to === 'running' && (t.from === 'paused' || next !== percentage)) stepStart = at;
    if (next !== percentage) served.push({ at, percentage: next });
    percentage = next;
  }
  const last = r.history.at(-1);
  const end = isDone(r) ? (last ? Date.parse(last.at) : Date.parse(r.updatedAt)) : isWatching(r) ? Math.min(now, Date.parse(r.watchUntil!)) : now;
  const actions = [...approvalsOf(r), ...r.history.flatMap((t) => commandOf(t) ?? [])].sort((a, b) => a.at - b.at);
  return { start, end, served, actions, counted };
}

/** A person's command as the decision core takes it. */
export function commandInput(action: PersonAction): DecisionInput {
  const comment = action.comment ? { comment: action.comment } : {};
  if (action.kind === 'approve') return { kind: 'approve', by: action.by, step: action.percentage, ...comment };
  return { kind: action.kind, by: action.by, ...comment };
}
