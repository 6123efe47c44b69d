import { firstHeldSince, type InstanceSeen } from './sightings.js';

/**
 * How far a flag's current state has reached: of the SDK instances connected to the environment
 * (sightings.ts), which hold it. An instance holds it once it was served a state at or after the
 * flag's revision (the change-feed position of its last change): a poll or delta answered from such
 * a state (200 or 304 alike: a 304 says it already has that payload), or a stream written such an
 * update. Pure: the route reads the instances and the revision, and this decides.
 */

/** The pending instances listed in an answer; the rest are counted. */
export const MAX_LISTED_INSTANCES = 500;

export interface InstanceRef {
  appName: string | null;
  instanceId: string | null;
  connectionId: string | null;
  /** The recorder's name for it, for an instance whose names are not known. */
  instance: string;
  lastSeenAt: string;
}

export interface Propagation {
  /** The flag's revision: the change-feed position from which a served state holds it as it is now. */
  version: number;
  /** SDK instances connected (seen in the last SEEN_WINDOW_MS). */
  instances: number;
  /** Of them, how many hold the flag's current state. */
  confirmed: number;
  /** When the last of those got it (ISO), if that is within the records' reach (20 minutes); else null. */
  lastConfirmedAt: string | null;
  pending: InstanceRef[];
  /** Pending instances not listed (past MAX_LISTED_INSTANCES). */
  pendingNotListed: number;
}

export function instanceRef(i: InstanceSeen): InstanceRef {
  return {
    appName: i.names?.appName ?? null,
    instanceId: i.names?.instanceId ?? null,
    connectionId: i.names?.connectionId || null,
    instance: i.instance,
    lastSeenAt: new Date(i.lastSeenAt).toISOString(),
  };
}

export function holdsRevision(i: Pick<InstanceSeen, 'revision'>, revision: number): boolean {
  return i.revision !== undefined && i.revision >= revision;
}

export function propagationOf(version: number, instances: readonly InstanceSeen[]): Propagation {
  let confirmed = 0;
  let last: number | undefined;
  const pending: InstanceSeen[] = [];
  for (const i of instances) {
    if (!holdsRevision(i, version)) {
      pending.push(i);
      continue;
    }
    confirmed++;
    const at = firstHeldSince(i, version);
    if (at !== undefined && (last === undefined || at > last)) last = at;
  }
  return {
    version,
    instances: instances.length,
    confirmed,
    lastConfirmedAt: last === undefined ? null : new Date(last).toISOString(),
    pending: pending.slice(0, MAX_LISTED_INSTANCES).map(instanceRef),
    pendingNotListed: Math.max(0, pending.length - MAX_LISTED_INSTANCES),
  };
}
