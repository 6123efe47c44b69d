import { ownedStrategies } from '../flags/rollout-ownership.js';
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
  private readonly watched = new WeakMap<EvaluationEngine, ReadonlySet<string>>();
  private readonly unsubscribe: () => void;

  constructor(private readonly state: ServingState) {
    this.unsubscribe = state.onChange(() => this.engines.clear());
  }

  forEnvironment(env: string): EvaluationEngine {
    let engine = this.engines.get(env);
    if (!engine) {
      engine = new CompiledEngine(this.state.clientFeatures(env, false), this.state.clientSegments());
      this.engines.set(env, engine);
      this.watched.set(engine, flagsUnderRollout(this.state, env));
    }
    return engine;
  }

  /**
   * The engine's flags a rollout owns a strategy of, in its environment. Ownership is a flag
   * change, so it is fixed for the engine's life.
   */
  flagsUnderRollout(engine: EvaluationEngine): ReadonlySet<string> {
    return this.watched.get(engine) ?? NONE;
  }

  close(): void {
    this.unsubscribe();
    this.engines.clear();
  }
}

const NONE: ReadonlySet<string> = new Set();

function flagsUnderRollout(state: ServingState, env: string): ReadonlySet<string> {
  const names = new Set<string>();
  for (const flag of state.allFlags()) if (ownedStrategies(flag).some((o) => o.environment === env)) names.add(flag.name);
  return names;
}
