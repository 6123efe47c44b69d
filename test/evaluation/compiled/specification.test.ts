import { describe, expect, it } from 'vitest';
import { CompiledEngine } from '../../../src/evaluation/compiled/compiled-engine.js';
import { specificationStates } from './flag-sets.js';

/**
 * Every expectation of Unleash's client specification, met by the compiled evaluator on its own
 * (built from each state as the specification gives it; the routes' side of it is in the client
 * specification tests of the SDK modes, the frontend API and OFREP).
 */

const states = specificationStates();

describe('the compiled evaluator meets the client specification', () => {
  it('has all 22 states, with their tests', () => {
    expect(states).toHaveLength(22);
    expect(states.reduce((n, s) => n + s.tests.length, 0)).toBeGreaterThan(270);
  });

  describe.each(states.map((s) => [s.name, s] as const))('%s', (_name, state) => {
    const engine = new CompiledEngine(structuredClone(state.features), structuredClone(state.segments));
    it.each(state.tests.map((t) => [t.description, t] as const))('%s', (_description, test) => {
      const evaluation = engine.evaluate(test.toggleName, structuredClone(test.context));
      if (typeof test.expectedResult === 'boolean') {
        expect(evaluation?.enabled ?? false).toBe(test.expectedResult);
        return;
      }
      // A flag the state does not have answers as the SDK's fallback: the disabled variant.
      const variant = evaluation?.variant ?? { name: 'disabled', enabled: false, feature_enabled: false };
      const { featureEnabled: _sameAsFeatureEnabled, ...asSpecified } = variant as typeof variant & { featureEnabled?: boolean };
      expect(asSpecified).toEqual(test.expectedResult);
    });
  });
});
