import type { ServingState } from '../serving/serving-state.js';
import { CompiledEngine } from './compiled/compiled-engine.js';
import type { EvaluationEngine } from './flag-catalog.js';

/**
 * One engine per environment, compiled on first use from the serving snapshot (the same features
 * and segments the client API serves) and dropped whenever a flag or segment changes, so evaluation
 * follows the change feed exactly as SDK polls do. Compiling 200 flags takes a few milliseconds,
 * once per change, not per request.
 */
export class EngineCache {
  private engines = new Map<string, EvaluationEngine>();
  private readonly unsubscribe: () => void;

  constructor(private readonly state: ServingState) {
    this.unsubscribe = state.onChange(() => this.engines.clear());
  }

  forEnvironment(env: string): EvaluationEngine {
    let engine = this.engines.get(env);
    if (!engine) {
      engine = new CompiledEngine(this.state.clientFeatures(env, false), this.state.clientSegments());
      this.engines.set(env, engine);
    }
    return engine;
  }

  close(): void {
    this.unsubscribe();
    this.engines.clear();
  }
}
