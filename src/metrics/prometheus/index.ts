/** PromQL queries for gates and rollback rules; see docs/policies.md, "PromQL checks". */
export {
  DEFAULT_PROMETHEUS_TIMEOUT_MS,
  PrometheusProvider,
  UnconfiguredPrometheus,
  prometheusProviderFromConfig,
  type MetricQueryProvider,
  type PrometheusProviderOptions,
} from './prometheus-provider.js';
export { type QueryResult } from './query-result.js';
export { promDuration, renderQuery, type QueryVars } from './query-template.js';
