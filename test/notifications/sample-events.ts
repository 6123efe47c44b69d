import { flagEvent, type FlagEvent } from '../../src/notifications/events.js';
import { withLinks } from '../../src/notifications/links.js';

export const PUBLIC_URL = 'https://rollouts.example.com';

/** Rita kills checkout in production, where rollout r-9 runs at 10%, for `reason`; with links to PUBLIC_URL. */
export function ritasKill(reason: string): FlagEvent {
  return withLinks(
    flagEvent(
      { flag: 'checkout', environment: 'production', killed: true, reason, actor: { name: 'Rita' }, at: '2026-03-02T10:00:00.000Z' },
      { id: 'r-9', policy: 'standard', state: 'running', percentage: 10 },
    ),
    PUBLIC_URL,
  );
}

/** Quick retries, and receivers on 127.0.0.1 allowed (they are loopback addresses). */
export const FAST_WEBHOOKS = {
  WEBHOOK_RETRY_BASE_MS: '50',
  WEBHOOK_RETRY_MAX_MS: '400',
  WEBHOOK_POLL_MS: '50',
  WEBHOOK_TIMEOUT_MS: '3000',
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
} as const;
