import { isRolloutEvent, type EventLinks, type NotificationEvent } from './events.js';

/**
 * Links from a notification to the dashboard, on its hash routes (src/ui/client/main.ts): a rollout
 * at #/rollouts/<id>, a flag on the flags page filtered to its name and environment
 * (#/flags?q=<name>&env=<env>; the dashboard has no page of one flag). With PUBLIC_URL unset they
 * are paths on the controller ("/#/rollouts/<id>"), which a JSON receiver that knows the address
 * can complete; chat messages and e-mails show a link only when it is absolute.
 */

export function rolloutLink(publicUrl: string | undefined, rolloutId: string): string {
  return `${publicUrl ?? ''}/#/rollouts/${encodeURIComponent(rolloutId)}`;
}

export function flagLink(publicUrl: string | undefined, flag: string, environment: string): string {
  return `${publicUrl ?? ''}/#/flags?q=${encodeURIComponent(flag)}&env=${encodeURIComponent(environment)}`;
}

export function webhooksLink(publicUrl: string | undefined): string {
  return `${publicUrl ?? ''}/#/webhooks`;
}

export function linksOf(event: NotificationEvent, publicUrl: string | undefined): EventLinks {
  if (isRolloutEvent(event)) return { dashboard: rolloutLink(publicUrl, event.rollout.id) };
  const withRollout = (r: { id: string } | undefined) => (r ? { rollout: rolloutLink(publicUrl, r.id) } : {});
  switch (event.type) {
    case 'flag.killed':
    case 'flag.restored':
      return { dashboard: flagLink(publicUrl, event.flag.name, event.flag.environment), ...withRollout(event.details.rollout) };
    case 'flag.drilled':
      return { dashboard: flagLink(publicUrl, event.flag.name, event.flag.environment) };
    case 'alert.acted':
      // As for a kill switch: the flag (a release's first) in its environment, and the rollout there.
      return { dashboard: flagLink(publicUrl, event.target.flags[0] ?? '', event.target.environment), ...withRollout(event.target.rollout) };
    case 'webhook.test':
      return { dashboard: webhooksLink(publicUrl) };
  }
}

/** The event as queued: with its links, fixed from then on (every retry sends the same bytes). */
export function withLinks<E extends NotificationEvent>(event: E, publicUrl: string | undefined): E {
  return { ...event, links: linksOf(event, publicUrl) };
}

/** Only an absolute link can be clicked in a chat message. */
export const isAbsolute = (url: string | undefined): url is string => !!url && /^https?:\/\//.test(url);
