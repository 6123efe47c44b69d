import type { Actor } from '../audit/chain.js';
import { flagDrilledEvent, type DrillEvent } from '../notifications/published-events.js';
import type { DrillRecord } from './drill-record.js';

/** The webhook event for a recorded drill (`flag.drilled`), stamped with when it finished. */
export function drillNotice(record: DrillRecord, actor: Actor): DrillEvent {
  return flagDrilledEvent(
    {
      flag: record.flag,
      environment: record.environment,
      details: {
        by: actor.name,
        reason: record.reason,
        instances: record.instances,
        confirmed: record.confirmed,
        ms: record.ms,
        missing: record.missing.length + record.missingNotListed,
      },
    },
    record.finishedAt,
  );
}
