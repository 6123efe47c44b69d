import { type V4Bits, v4Bits, v4InSubnet } from './ipv4-bits.js';
import type { FieldTable, RequestScope } from './request-scope.js';
import { Address4, Address6, type IpAddress, type IpAddressClass, RE2JS, type SemVer, semver } from './sdk-libraries.js';

/**
 * Constraints compiled to checks, with unleash-client's semantics (lib/strategy/strategy.js) and
 * everything about the constraint itself worked out once: values cleaned and put in a Set, numbers
 * and dates and versions parsed, regular expressions compiled, networks parsed. Per request only the
 * context side remains, and the scope does that once per field.
 *
 * The SDK's rules, kept exactly:
 * - an operator it does not know is false, `inverted` or not; any other result is negated by `inverted`;
 * - list operators drop empty values and trim the rest; IN/NOT_IN compare exactly (no caseInsensitive);
 * - string operators need a string value and compare lower-cased (toLocaleLowerCase) when caseInsensitive;
 * - NUM_* compare Number() of both sides, false when either is NaN (so an empty value is 0);
 * - DATE_* compare the context's currentTime (now when it has none) with the date; an invalid one is false;
 * - SEMVER_* need a valid version not starting with "v" on the context side; an invalid constraint value is false;
 * - REGEX compiles `value` with RE2 (case-insensitive when asked), false when it does not compile;
 * - IN_CIDR reads the value as IPv4, else IPv6, and matches networks of that family only.
 */

export interface ConstraintDefinition {
  contextName: string;
  operator: string;
  value?: string;
  values?: string[];
  inverted?: boolean;
  caseInsensitive?: boolean;
}

export type Check = (scope: RequestScope) => boolean;

export const never: Check = () => false;

export function compileConstraint(constraint: ConstraintDefinition, fields: FieldTable): Check {
  const check = operatorCheck(constraint, fields);
  if (!check) return never;
  return constraint.inverted ? (scope) => !check(scope) : check;
}

/** The SDK's cleanValues: empty values dropped, the rest trimmed (a value of spaces becomes ""). */
function cleanValues(values: readonly string[] | undefined): string[] {
  return (values ?? []).filter((v) => !!v).map((v) => v.trim());
}

function operatorCheck(c: ConstraintDefinition, fields: FieldTable): Check | undefined {
  const field = fields.index(c.contextName);
  switch (c.operator) {
    case 'IN':
    case 'NOT_IN':
      return listCheck(c.operator, cleanValues(c.values), field);
    case 'STR_STARTS_WITH':
    case 'STR_ENDS_WITH':
    case 'STR_CONTAINS':
      return stringCheck(c.operator, cleanValues(c.values), field, Boolean(c.caseInsensitive));
    case 'NUM_EQ':
    case 'NUM_GT':
    case 'NUM_GTE':
    case 'NUM_LT':
    case 'NUM_LTE':
      return numberCheck(c.operator, Number(c.value), field);
    case 'DATE_AFTER':
    case 'DATE_BEFORE':
      return dateCheck(c.operator, new Date(c.value as string).getTime());
    case 'SEMVER_EQ':
    case 'SEMVER_GT':
    case 'SEMVER_GTE':
    case 'SEMVER_LT':
    case 'SEMVER_LTE':
      return semverCheck(c.operator, c.value, field);
    case 'REGEX':
      return regexCheck(c.value, Boolean(c.caseInsensitive), field);
    case 'IN_CIDR':
      return cidrCheck(cleanValues(c.values), field);
    default:
      return undefined;
  }
}

function listCheck(operator: 'IN' | 'NOT_IN', values: string[], field: number): Check {
  if (values.length === 1) {
    const only = values[0];
    return operator === 'IN' ? (s) => s.value(field) === only : (s) => s.value(field) !== only;
  }
  const set = new Set(values);
  return operator === 'IN' ? (s) => set.has(s.value(field)!) : (s) => !set.has(s.value(field)!);
}

function stringCheck(operator: 'STR_STARTS_WITH' | 'STR_ENDS_WITH' | 'STR_CONTAINS', values: string[], field: number, caseInsensitive: boolean): Check {
  const wanted = caseInsensitive ? values.map((v) => v.toLocaleLowerCase()) : values;
  const read = caseInsensitive ? (s: RequestScope) => s.lowerCased(field) : (s: RequestScope) => s.value(field);
  const test =
    operator === 'STR_STARTS_WITH'
      ? (value: string) => wanted.some((w) => value.startsWith(w))
      : operator === 'STR_ENDS_WITH'
        ? (value: string) => wanted.some((w) => value.endsWith(w))
        : (value: string) => wanted.some((w) => value.includes(w));
  return (s) => {
    const value = read(s);
    return value !== undefined && test(value);
  };
}

function numberCheck(operator: 'NUM_EQ' | 'NUM_GT' | 'NUM_GTE' | 'NUM_LT' | 'NUM_LTE', wanted: number, field: number): Check {
  if (Number.isNaN(wanted)) return never;
  const compare = {
    NUM_EQ: (n: number) => n === wanted,
    NUM_GT: (n: number) => n > wanted,
    NUM_GTE: (n: number) => n >= wanted,
    NUM_LT: (n: number) => n < wanted,
    NUM_LTE: (n: number) => n <= wanted,
  }[operator];
  // Number(undefined) is NaN, and every comparison with NaN is false, as the SDK's explicit NaN check makes it.
  return (s) => compare(Number(s.value(field)));
}

function dateCheck(operator: 'DATE_AFTER' | 'DATE_BEFORE', at: number): Check {
  if (Number.isNaN(at)) return never;
  return operator === 'DATE_AFTER' ? (s) => s.now() > at : (s) => s.now() < at;
}

function semverCheck(operator: 'SEMVER_EQ' | 'SEMVER_GT' | 'SEMVER_GTE' | 'SEMVER_LT' | 'SEMVER_LTE', value: string | undefined, field: number): Check {
  let wanted: SemVer;
  try {
    wanted = new semver.SemVer(value as string);
  } catch {
    return never;
  }
  const holds = {
    SEMVER_EQ: (order: number) => order === 0,
    SEMVER_GT: (order: number) => order > 0,
    SEMVER_GTE: (order: number) => order >= 0,
    SEMVER_LT: (order: number) => order < 0,
    SEMVER_LTE: (order: number) => order <= 0,
  }[operator];
  return (s) => {
    const version = s.semver(field);
    return version !== null && holds(version.compare(wanted));
  };
}

function regexCheck(pattern: string | undefined, caseInsensitive: boolean, field: number): Check {
  let regex: ReturnType<typeof RE2JS.compile>;
  try {
    regex = RE2JS.compile(pattern as string, caseInsensitive ? RE2JS.CASE_INSENSITIVE : undefined);
  } catch {
    return never;
  }
  return (s) => {
    const value = s.value(field);
    if (value === undefined) return false;
    try {
      return regex.matcher(value).find();
    } catch {
      return false;
    }
  };
}

/** A network of the constraint, parsed once as each family it is valid in. */
interface Network {
  v4?: { network: IpAddress; correctForm: string; bits: V4Bits };
  v6?: { network: IpAddress; correctForm: string };
}

function parsed(range: string, Family: IpAddressClass): { network: IpAddress; correctForm: string } | undefined {
  if (!Family.isValid(range)) return undefined;
  const network = new Family(range);
  return { network, correctForm: network.correctForm() };
}

function parsedV4(range: string): Network['v4'] {
  const v4 = parsed(range, Address4);
  return v4 && { ...v4, bits: v4Bits(v4.network) };
}

function cidrCheck(ranges: string[], field: number): Check {
  const networks: Network[] = ranges.map((range) => ({ v4: parsedV4(range), v6: parsed(range, Address6) }));
  return (s) => {
    const address = s.address(field);
    if (!address) return false;
    if (address.v4) {
      const host = address.v4;
      return networks.some(({ v4 }) => v4 !== undefined && (address.correctForm === v4.correctForm || v4InSubnet(host, v4.bits)));
    }
    return networks.some(({ v6 }) => v6 !== undefined && (address.correctForm === v6.correctForm || address.address.isInSubnet(v6.network)));
  };
}
