/**
 * How alerts find a release's rollout: a release ramps several flags as one rollout (src/rollouts),
 * and an alert names it by name. Wired at start-up; until releases are, no release is known and an
 * alert naming one answers `unknown_target`.
 */
export interface ReleaseLookup {
  /** The id of the active rollout of the release `name` in `environment`, or undefined (no such release, or none active). */
  findActiveRelease(name: string, environment: string): Promise<string | undefined>;
}

export const NO_RELEASES: ReleaseLookup = { findActiveRelease: async () => undefined };
