import { ApiError, postJson } from './api.js';
import { confirmAction, type ConfirmOptions } from './confirm.js';
import { h } from './dom.js';
import { announce, showError } from './status.js';
import type { Me, PageContext, Permission, Rollout } from './types.js';

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
}

export function actionButton(spec: ActionSpec, after: () => void): HTMLButtonElement {
  const button = h('button', { type: 'button', class: spec.danger ? 'danger' : 'primary', 'data-key': spec.key, 'data-action': spec.key }, spec.label);
  button.addEventListener('click', async () => {
    const text = await confirmAction(spec);
    if (text === null) return;
    button.disabled = true;
    try {
      await postJson(spec.path, spec.body(text));
      announce(spec.done);
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

const COMMANDS: Record<Command, { permission: Permission; states: string[]; spec(r: Rollout, next: number | undefined): Omit<ActionSpec, 'key' | 'path' | 'body' | 'done'> }> = {
  approve: {
    permission: 'rollouts:approve',
    states: ['running', 'awaiting_approval'],
    spec: (r, next) => ({ label: 'Approve', title: `Approve ${next}% for ${r.flag}?`, message: `Your approval lets ${r.flag} go to ${next}% in ${r.environment} once the current step's gates pass.`, confirmLabel: 'Approve', text: { label: 'Comment', required: false } }),
  },
  reject: {
    permission: 'rollouts:approve',
    states: ['awaiting_approval'],
    spec: (r, next) => ({ label: 'Reject', title: `Reject ${next}% for ${r.flag}?`, message: 'The rollout pauses and waits for a person; the flag stays where it is.', confirmLabel: 'Reject', text: { label: 'Comment', required: false }, danger: true }),
  },
  pause: {
    permission: 'rollouts:start',
    states: ['pending', 'running', 'awaiting_approval'],
    spec: (r) => ({ label: 'Pause', title: `Pause the rollout of ${r.flag}?`, message: 'It holds at its current percentage; rollback rules keep being checked.', confirmLabel: 'Pause', text: { label: 'Comment', required: false } }),
  },
  resume: {
    permission: 'rollouts:start',
    states: ['paused'],
    spec: (r) => ({ label: 'Resume', title: `Resume the rollout of ${r.flag}?`, message: 'The current step starts its clock again and is judged afresh.', confirmLabel: 'Resume', text: { label: 'Comment', required: false } }),
  },
  abort: {
    permission: 'rollouts:start',
    states: ['pending', 'running', 'awaiting_approval', 'paused'],
    spec: (r) => ({ label: 'Abort', title: `Abort the rollout of ${r.flag}?`, message: `The rollout stops for good and its strategy returns to 0% in ${r.environment}.`, confirmLabel: 'Abort the rollout', text: { label: 'Comment', required: false }, danger: true }),
  },
};

const PAST: Record<Command, string> = { approve: 'Approved', reject: 'Rejected', pause: 'Paused', resume: 'Resumed', abort: 'Aborted' };

/** Why `me` cannot approve even with the permission: the policy names the roles, and no one approves their own rollout. */
function approvalBlocked(r: Rollout, me: Me, nextIndex: number): string | undefined {
  if (r.startedBy.id === me.id) return 'You started this rollout, so someone else must approve it.';
  const step = r.plan.steps[nextIndex];
  const roles = (typeof step === 'object' ? step.approval?.roles : undefined) ?? r.plan.stepDefaults.approval.roles;
  if (!roles.includes(me.role as (typeof roles)[number])) return `Approving this step needs the role ${roles.join(' or ')}.`;
  return undefined;
}

/** The rollout's buttons for this person in this state (kill included), as elements. */
export function rolloutActions(r: Rollout, steps: number[], ctx: PageContext, after: () => void): HTMLElement[] {
  const next = steps[r.stepIndex + 1];
  const out: HTMLElement[] = [];
  for (const [command, def] of Object.entries(COMMANDS) as Array<[Command, (typeof COMMANDS)[Command]]>) {
    if (!ctx.can(def.permission) || !def.states.includes(r.state)) continue;
    if ((command === 'approve' || command === 'reject') && next === undefined) continue;
    const spec: ActionSpec = {
      ...def.spec(r, next),
      key: command,
      path: `/api/admin/rollouts/${encodeURIComponent(r.id)}/${command}`,
      body: comment,
      done: `${PAST[command]}: ${r.flag} in ${r.environment}`,
    };
    const blocked = command === 'approve' ? approvalBlocked(r, ctx.me, r.stepIndex + 1) : undefined;
    if (blocked) {
      out.push(h('button', { type: 'button', class: 'primary', disabled: true, 'aria-describedby': 'approve-blocked', 'data-action': command }, spec.label));
      out.push(h('span', { id: 'approve-blocked', class: 'muted note' }, blocked));
    } else out.push(actionButton(spec, after));
  }
  if (ctx.can('flags:kill') && r.state !== 'rolled_back') out.push(actionButton(killAction(r.flag, r.environment, true), after));
  return out;
}
