import { ApiError, postJson } from './api.js';
import { confirmAction, type ConfirmOptions } from './confirm.js';
import { h } from './dom.js';
import { announce, showError } from './status.js';
import type { Me, PageContext, Permission, Rollout, RolloutWithStatus } from './types.js';

/**
 * The buttons that change something. Each is offered only to a role that may use it and only in a
 * state where it can work; each asks for confirmation first; the API decides in the end (a
 * refusal, e.g. separation of duties, is shown as it comes back).
 */

export interface ActionSpec extends ConfirmOptions {
  /** Button text; also its data-key, so it keeps focus across live re-renders. */
  label: string;
  key: string;
  path: string;
  /** The request body from the text entered in the dialog. */
  body(text: string): unknown;
  done: string;
  /** Given the API's answer, after `done` is announced (a drill shows its record). */
  onDone?(answer: unknown): void;
}

export function actionButton(spec: ActionSpec, after: () => void): HTMLButtonElement {
  const button = h('button', { type: 'button', class: spec.danger ? 'danger' : 'primary', 'data-key': spec.key, 'data-action': spec.key }, spec.label);
  button.addEventListener('click', async () => {
    const text = await confirmAction(spec);
    if (text === null) return;
    button.disabled = true;
    try {
      const answer = await postJson(spec.path, spec.body(text));
      announce(spec.done);
      spec.onDone?.(answer);
    } catch (err) {
      showError(err instanceof ApiError ? new ApiError(err.status, err.errorId, `${spec.label} refused: ${err.message}`) : err);
    } finally {
      button.disabled = false;
      after();
    }
  });
  return button;
}

const comment = (text: string) => (text ? { comment: text } : {});
const reason = (text: string) => ({ reason: text });

export function killAction(flag: string, environment: string, kill: boolean): ActionSpec {
  const what = `${flag} in ${environment}`;
  return kill
    ? {
        label: 'Kill',
        key: `kill:${environment}:${flag}`,
        title: `Kill ${what}?`,
        message: `${flag} will be served disabled in ${environment} at once, to every application, whatever its rollout.`,
        confirmLabel: 'Kill the flag',
        text: { label: 'Reason', required: true },
        danger: true,
        path: `/api/admin/flags/${encodeURIComponent(flag)}/environments/${encodeURIComponent(environment)}/kill`,
        body: reason,
        done: `${what} killed: served disabled`,
      }
    : {
        label: 'Restore',
        key: `restore:${environment}:${flag}`,
        title: `Restore ${what}?`,
        message: `The kill switch is lifted: ${flag} is served by its own definition in ${environment} again.`,
        confirmLabel: 'Restore the flag',
        text: { label: 'Reason', required: true },
        path: `/api/admin/flags/${encodeURIComponent(flag)}/environments/${encodeURIComponent(environment)}/restore`,
        body: reason,
        done: `${what} restored`,
      };
}

type Command = 'approve' | 'reject' | 'pause' | 'resume' | 'abort';

const COMMANDS: Record<
  Command,
  { permission: Permission; states: string[]; spec(r: Rollout, next: number | undefined): Omit<ActionSpec, 'key' | 'path' | 'body' | 'done'> }
> = {
  approve: {
    permission: 'rollouts:approve',
    states: ['awaiting_approval'],
    spec: (r, next) => ({
      label: `Approve ${next}%`,
      title: `Approve ${next}% for ${r.flag}?`,
      message: `Your approval lets ${r.flag} go to ${next}% in ${r.environment}; it counts for this step only.`,
      confirmLabel: `Approve ${next}%`,
      text: { label: 'Comment', required: false },
    }),
  },
  reject: {
    permission: 'rollouts:approve',
    states: ['awaiting_approval'],
    spec: (r, next) => ({
      label: 'Reject',
      title: `Reject ${next}% for ${r.flag}?`,
      message: 'The rollout pauses and waits for a person; the flag stays where it is.',
      confirmLabel: 'Reject',
      text: { label: 'Comment', required: false },
      danger: true,
    }),
  },
  pause: {
    permission: 'rollouts:start',
    states: ['pending', 'running', 'awaiting_approval'],
    spec: (r) => ({
      label: 'Pause',
      title: `Pause the rollout of ${r.flag}?`,
      message: 'It holds at its current percentage; rollback rules keep being checked.',
      confirmLabel: 'Pause',
      text: { label: 'Comment', required: false },
    }),
  },
  resume: {
    permission: 'rollouts:start',
    states: ['paused'],
    spec: (r) => ({
      label: 'Resume',
      title: `Resume the rollout of ${r.flag}?`,
      message: 'The current step starts its clock again and is judged afresh.',
      confirmLabel: 'Resume',
      text: { label: 'Comment', required: false },
    }),
  },
  abort: {
    permission: 'rollouts:start',
    states: ['pending', 'running', 'awaiting_approval', 'paused'],
    spec: (r) => ({
      label: 'Abort',
      title: `Abort the rollout of ${r.flag}?`,
      message: `The rollout stops for good and its strategy returns to 0% in ${r.environment}.`,
      confirmLabel: 'Abort the rollout',
      text: { label: 'Comment', required: false },
      danger: true,
    }),
  },
};

const PAST: Record<Command, string> = { approve: 'Approved', reject: 'Rejected', pause: 'Paused', resume: 'Resumed', abort: 'Aborted' };

/**
 * Why `me` cannot approve the awaited step even with the permission: they approved it already, the
 * policy names other roles, or they started the rollout (separation of duties).
 */
function approvalBlocked(r: RolloutWithStatus, me: Me): string | undefined {
  const awaited = r.status.waitingFor.find((c) => c.kind === 'approval');
  if (awaited?.kind !== 'approval') return undefined;
  if (r.approvals.some((a) => a.by.id === me.id && a.step === r.status.steps.indexOf(awaited.forPercentage)))
    return `You approved ${awaited.forPercentage}%; ${awaited.required - awaited.approvals} more approval(s) needed from ${awaited.roles.join(' or ')}.`;
  if (r.startedBy.id === me.id) return 'You started this rollout, so someone else must approve it.';
  if (!awaited.roles.includes(me.role)) return `Approving this step needs the role ${awaited.roles.join(' or ')}.`;
  return undefined;
}

/** What a person may do after a rollout ended: start again from 0 %, or restore the flag with a warning. */
function nextStepActions(r: RolloutWithStatus, ctx: PageContext, after: () => void): HTMLElement[] {
  const out: HTMLElement[] = [];
  for (const step of r.status.nextSteps) {
    if (step.kind === 'new-rollout' && ctx.can('rollouts:start')) {
      const restore = r.status.served.killed;
      out.push(
        actionButton(
          {
            label: 'Start a new rollout from 0%',
            key: `new-rollout:${r.id}`,
            title: `Start a new rollout of ${r.flag} in ${r.environment}?`,
            message:
              `${step.text}. It follows the policy ${r.policy} again from its first step` +
              `${restore ? '; the kill switch is cleared as it starts, for the reason you give' : ''}.`,
            confirmLabel: 'Start the rollout',
            text: { label: 'Reason', required: restore },
            path: '/api/admin/rollouts',
            body: (text: string) => ({ flag: r.flag, environment: r.environment, policy: r.policy, ...(restore ? { restore: true, reason: text } : {}) }),
            done: `New rollout of ${r.flag} in ${r.environment} started`,
          },
          after,
        ),
      );
    }
    if (step.kind === 'restore-flag' && ctx.can('flags:kill')) {
      const spec = killAction(r.flag, r.environment, false);
      out.push(actionButton({ ...spec, label: 'Restore the flag as it is', danger: true, message: `Warning: ${step.warning}. ${spec.message}` }, after));
    }
  }
  return out;
}

/** The rollout's buttons for this person in this state (kill included), as elements. */
export function rolloutActions(r: RolloutWithStatus, ctx: PageContext, after: () => void): HTMLElement[] {
  const awaited = r.status.awaitingStep ?? undefined;
  const out: HTMLElement[] = [];
  for (const [command, def] of Object.entries(COMMANDS) as Array<[Command, (typeof COMMANDS)[Command]]>) {
    if (!ctx.can(def.permission) || !def.states.includes(r.state)) continue;
    if ((command === 'approve' || command === 'reject') && awaited === undefined) continue;
    const spec: ActionSpec = {
      ...def.spec(r, awaited),
      key: command,
      path: `/api/admin/rollouts/${encodeURIComponent(r.id)}/${command}`,
      // An approval names the step the person saw, so a second click can never approve the next one.
      body: command === 'approve' ? (text: string) => ({ step: awaited, ...comment(text) }) : comment,
      done: command === 'approve' ? `Approved ${awaited}%: ${r.flag} in ${r.environment}` : `${PAST[command]}: ${r.flag} in ${r.environment}`,
    };
    const blocked = command === 'approve' ? approvalBlocked(r, ctx.me) : undefined;
    if (blocked) {
      out.push(h('button', { type: 'button', class: 'primary', disabled: true, 'aria-describedby': 'approve-blocked', 'data-action': command }, spec.label));
      out.push(h('span', { id: 'approve-blocked', class: 'muted note' }, blocked));
    } else out.push(actionButton(spec, after));
  }
  // A killed flag is offered its restore (with what it will serve), never a second kill.
  if (r.status.active && ctx.can('flags:kill')) out.push(actionButton(killAction(r.flag, r.environment, !r.status.served.killed), after));
  out.push(...nextStepActions(r, ctx, after));
  return out;
}
