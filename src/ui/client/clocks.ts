import { serverNow } from './api.js';
import { duration } from './format.js';

/**
 * Time in step and countdowns tick every second without asking the server: elements carry
 * data-since (elapsed) or data-until (remaining) in ms, counted on the controller's clock.
 */

export function sinceAttrs(sinceMs: number): Record<string, string> {
  return { 'data-since': String(sinceMs), class: 'clock' };
}

export function untilAttrs(untilMs: number): Record<string, string> {
  return { 'data-until': String(untilMs), class: 'clock' };
}

function update(): void {
  const now = serverNow();
  for (const el of document.querySelectorAll<HTMLElement>('[data-since]')) el.textContent = duration(now - Number(el.dataset.since));
  for (const el of document.querySelectorAll<HTMLElement>('[data-until]')) {
    const left = Number(el.dataset.until) - now;
    // Under a second left still reads as 1s: "0s left" would look like a step that is stuck.
    el.textContent = left > 0 ? duration(Math.max(1000, left)) : '0s';
  }
}

let started = false;
/** Fills clocks now (call after rendering) and keeps them going. */
export function tickClocks(): void {
  update();
  if (!started) {
    started = true;
    window.setInterval(update, 1000);
  }
}
