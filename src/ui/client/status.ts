import { ApiError } from './api.js';
import { t } from './i18n.js';

/**
 * One line under the top bar, read out by screen readers (role=status): what an action did, or
 * why the dashboard cannot reach the controller right now.
 */

let lastKind: 'info' | 'error' | undefined;

function region(): HTMLElement {
  return document.getElementById('status')!;
}

export function announce(message: string): void {
  lastKind = 'info';
  region().className = 'status info';
  region().textContent = message;
}

export function showError(err: unknown): void {
  lastKind = 'error';
  region().className = 'status error';
  region().textContent =
    err instanceof ApiError ? `${err.message} (${err.status})` : t('Cannot reach the controller: {reason}', { reason: String((err as Error)?.message ?? err) });
}

/** A poll succeeded again: an error shown earlier is no longer true. */
export function clearError(): void {
  if (lastKind === 'error') clearStatus();
}

/**
 * The language changed: a line written in the other language is cleared rather than left half
 * translated (it was filled with its values when written); the next poll shows a current error again.
 */
export function clearStatus(): void {
  lastKind = undefined;
  region().className = 'status';
  region().textContent = '';
}
