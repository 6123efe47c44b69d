import { ApiError, postJson } from './api.js';
import { confirmAction, type ConfirmOptions } from './confirm.js';
import { h } from './dom.js';
import { t } from './i18n.js';
import { controllerReasonText } from './lang.js';
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
      showError(
        err instanceof ApiError ? new ApiError(err.status, err.errorId, t('{action} refused: {reason}', { action: spec.label, reason: err.message })) : err,
      );
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
  const names = { flag, env: environment };
  return kill
    ? {
        label: t('Kill'),
        key: `kill:${environment}:${flag}`,
        title: t('Kill {flag} in {env}?', names),
        message: t('{flag} will be served disabled in {env} at once, to every application, whatever its rollout.', names),
        confirmLabel: t('Kill the flag'),
        text: { label: t('Reason'), required: true },
        danger: true,
        path: `/api/admin/flags/${encodeURIComponent(flag)}/environments/${encodeURIComponent(environment)}/kill`,
        body: reason,
        done: t('{flag} in {env} killed: served disabled', names),
      }
    : {
        label: t('Restore'),
        key: `restore:${environment}:${flag}`,
        title: t('Restore {flag} in {env}?', names),
        message: t('The kill switch is lifted: {flag} is served by its own definition in {env} again.', names),
        confirmLabel: t('Restore the flag'),
        text: { label: t('Reason'), required: true },
        path: `/api/admin/flags/${encodeURIComponent(flag)}/environments/${encodeURIComponent(environment)}/restore`,
        body: reason,
        done: t('{flag} in {env} restored', names),
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
      label: t('Approve {pct}%', { pct: next ?? '' }),
      title: t('Approve {pct}% for {flag}?', { pct: next ?? '', flag: r.flag }),
      message: t('Your approval lets {flag} go to {pct}% in {env}; it counts for this step only.', { pct: next ?? '', flag: r.flag, env: r.environment }),
      confirmLabel: t('Approve {pct}%', { pct: next ?? '' }),
      text: { label: t('Comment'), required: false },
    }),
  },
  reject: {
    permission: 'rollouts:approve',
    states: ['awaiting_approval'],
    spec: (r, next) => ({
      label: t('Reject'),
      title: t('Reject {pct}% for {flag}?', { pct: next ?? '', flag: r.flag }),
      message: t('The rollout pauses and waits for a person; the flag stays where it is.'),
      confirmLabel: t('Reject'),
      text: { label: t('Comment'), required: false },
      danger: true,
    }),
  },
  pause: {
    permission: 'rollouts:start',
    states: ['pending', 'running', 'awaiting_approval'],
    spec: (r) => ({
      label: t('Pause'),
      title: t('Pause the rollout of {flag}?', { flag: r.flag }),
      message: t('It holds at its current percentage; rollback rules keep being checked.'),
      confirmLabel: t('Pause'),
      text: { label: t('Comment'), required: false },
    }),
  },
  resume: {
    permission: 'rollouts:start',
    states: ['paused'],
    spec: (r) => ({
      label: t('Resume'),
      title: t('Resume the rollout of {flag}?', { flag: r.flag }),
      message: t('The current step starts its clock again and is judged afresh.'),
      confirmLabel: t('Resume'),
      text: { label: t('Comment'), required: false },
    }),
  },
  abort: {
    permission: 'rollouts:start',
    states: ['pending', 'running', 'awaiting_approval', 'paused'],
    spec: (r) => ({
      label: t('Abort'),
      title: t('Abort the rollout of {flag}?', { flag: r.flag }),
      message: t('The rollout stops for good and its strategy returns to 0% in {env}.', { env: r.environment }),
      confirmLabel: t('Abort the rollout'),
      text: { label: t('Comment'), required: false },
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
    return t('You approved {pct}%; {n} more approval(s) needed from {roles}.', {
      pct: awaited.forPercentage,
      n: awaited.required - awaited.approvals,
      roles: awaited.roles.join(t(' or ')),
    });
  if (r.startedBy.id === me.id) return t('You started this rollout, so someone else must approve it.');
  if (!awaited.roles.includes(me.role)) return t('Approving this step needs the role {roles}.', { roles: awaited.roles.join(t(' or ')) });
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
            label: t('Start a new rollout from 0%'),
            key: `new-rollout:${r.id}`,
            title: t('Start a new rollout of {flag} in {env}?', { flag: r.flag, env: r.environment }),
            message: restore
              ? t('{next}. It follows the policy {policy} again from its first step; the kill switch is cleared as it starts, for the reason you give.', {
                  next: controllerReasonText({ reason: step.text, reasonWording: step.textWording }),
                  policy: r.policy,
                })
              : t('{next}. It follows the policy {policy} again from its first step.', {
                  next: controllerReasonText({ reason: step.text, reasonWording: step.textWording }),
                  policy: r.policy,
                }),
            confirmLabel: t('Start the rollout'),
            text: { label: t('Reason'), required: restore },
            path: '/api/admin/rollouts',
            body: (text: string) => ({ flag: r.flag, environment: r.environment, policy: r.policy, ...(restore ? { restore: true, reason: text } : {}) }),
            done: t('New rollout of {flag} in {env} started', { flag: r.flag, env: r.environment }),
          },
          after,
        ),
      );
    }
    if (step.kind === 'restore-flag' && ctx.can('flags:kill')) {
      const spec = killAction(r.flag, r.environment, false);
      out.push(
        actionButton(
          {
            ...spec,
            label: t('Restore the flag as it is'),
            danger: true,
            message: t('Warning: {warning}. {then}', {
              warning: controllerReasonText({ reason: step.warning ?? '', reasonWording: step.warningWording }),
              then: spec.message,
            }),
          },
          after,
        ),
      );
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
      done:
        command === 'approve'
          ? t('Approved {pct}%: {flag} in {env}', { pct: awaited ?? '', flag: r.flag, env: r.environment })
          : t(`${PAST[command]}: {flag} in {env}`, { flag: r.flag, env: r.environment }),
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
