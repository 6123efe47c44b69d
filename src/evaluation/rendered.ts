import type { Evaluation } from './evaluation.js';

/**
 * A route's JSON for one evaluation, serialised once per distinct answer: the compiled evaluator
 * hands out the same frozen object for the same answer of the same flag (compiled/outcomes.ts), so
 * its JSON is kept beside it (weakly: it goes when the engine is dropped on the next change) and a
 * response is assembled by joining pieces. Evaluations that are not frozen (the stock engine's, made
 * afresh for each call) are serialised every time.
 */
export function renderedOnce(render: (evaluation: Evaluation) => unknown): (evaluation: Evaluation) => string {
  const pieces = new WeakMap<Evaluation, string>();
  return (evaluation) => {
    let json = pieces.get(evaluation);
    if (json === undefined) {
      json = JSON.stringify(render(evaluation));
      if (Object.isFrozen(evaluation)) pieces.set(evaluation, json);
    }
    return json;
  };
}
