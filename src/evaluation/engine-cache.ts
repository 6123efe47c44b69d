import type { ServingState } from '../serving/serving-state.js';
import { SnapshotEngine } from './unleash-engine.js';

/**
 * One engine per environment, built on first use from the serving snapshot (the same features and
 * segments the client API serves) and dropped whenever a flag or segment changes, so evaluation
 * follows the change feed exactly as SDK polls do.
 */
export class EngineCache {
  private engines = new Map<string, SnapshotEngine>();
  private readonly unsubscribe: () => void;

  constructor(private readonly state: ServingState) {
    this.unsubscribe = state.onChange(() => this.engines.clear());
  }

  forEnvironment(env: string): SnapshotEngine {
    let engine = this.engines.get(env);
    if (!engine) {
      engine = new SnapshotEngine(this.state.clientFeatures(env, false), this.state.clientSegments());
      this.engines.set(env, engine);
    }
    return engine;
  }

  close(): void {
    this.unsubscribe();
    this.engines.clear();
  }
}
