/**
 * The constraint operators this server knows, and which of them compare against a list of values
 * (`values`) rather than one (`value`). Kept apart from the zod schemas so the dashboard's editor
 * offers exactly these without bundling the schemas.
 */
export const OPERATORS = [
  'IN',
  'NOT_IN',
  'STR_ENDS_WITH',
  'STR_STARTS_WITH',
  'STR_CONTAINS',
  'NUM_EQ',
  'NUM_GT',
  'NUM_GTE',
  'NUM_LT',
  'NUM_LTE',
  'DATE_AFTER',
  'DATE_BEFORE',
  'SEMVER_EQ',
  'SEMVER_GT',
  'SEMVER_LT',
  'SEMVER_GTE',
  'SEMVER_LTE',
  'REGEX',
  'IN_CIDR',
] as const;

export type Operator = (typeof OPERATORS)[number];

export const MULTI_VALUE_OPERATORS: ReadonlySet<string> = new Set<string>(['IN', 'NOT_IN', 'STR_ENDS_WITH', 'STR_STARTS_WITH', 'STR_CONTAINS', 'IN_CIDR']);
