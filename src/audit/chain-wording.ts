import { type Wording, wording } from '../rollouts/reason-wording.js';

/**
 * Why the audit log's hash chain is not intact (chain.ts, audit-service.ts), as English templates
 * with their values (the machinery of reason-wording.ts): said in English they are the `problem`
 * the API has always given; the dashboard says them in its language. Pure and zod-free.
 */

export const eventMissing = (seq: number, found: number, position: number): Wording =>
  wording('event {seq} is missing (found {found} at position {position})', { seq, found, position });
export const eventNotLinked = (seq: number): Wording => wording('event {seq} does not link to event {previous}', { seq, previous: seq - 1 });
export const eventAltered = (seq: number): Wording => wording('event {seq} was altered (its hash does not match its content)', { seq });
export const logEndsBeforeHead = (last: number, head: number): Wording =>
  wording('the log ends at event {last} but its head records event {head}', { last, head });
export const eventBeyondHead = (seq: number, head: number): Wording =>
  wording('event {seq} lies beyond the head, which records event {head}: the head was deleted or rolled back', { seq, head });
export const storeLostData = (reason: string, atLeast: number, now: number): Wording =>
  wording(
    'the store lost data ({reason}): its audit log held at least {atLeast} events and holds {now} now; restore a backup, or accept the loss (POST /api/admin/store/accept-loss)',
    { reason, atLeast, now },
  );
export const eventsRemovedWithHead = (seen: number, now: number): Wording =>
  wording('this replica saw the audit log reach event {seen}, and it now ends at event {now}: events were removed together with their head', { seen, now });
