import fc from 'fast-check';
import { CALLERS, callerAllowed, refusalFor, type Caller, type Operation, type ProbeRequest } from './api-probe.js';
import { toJsonText } from './hostile-values.js';
import { ODD_BODIES, ODD_HEADERS, ODD_PATH_VALUES, oddQueries, raw, UNACCEPTABLE_BODIES } from './odd-requests.js';
import type { JsonSchema, SchemaFuzzer } from './openapi-fuzz.js';

/**
 * The requests the API probe sends for one operation, all decided by a seed: valid ones from the
 * schemas, invalid bodies (broken in one place, or in the large shapes of issue 13's defects), odd
 * path parameters, query strings and headers, raw bodies (malformed, of the wrong type, too
 * large), examples made from real data, and the authorization matrix (each caller that may not
 * call it).
 */

export type CaseKind = 'valid' | 'invalid-body' | 'odd-path' | 'odd-query' | 'odd-header' | 'raw-body' | 'oversized' | 'refused-caller';

export interface ProbeCase {
  op: Operation;
  kind: CaseKind;
  caller: Caller;
  request: ProbeRequest;
  /** How the request was made, for failure reports. */
  note: string;
  /** The status the request must get (the authorization matrix); otherwise only the general checks apply. */
  expectStatus?: number;
  /** The request must be refused with a 4xx (an example the controller must not accept). */
  mustRefuse?: boolean;
}

/** Values for one path parameter of one operation. */
export interface Targets {
  /** What a valid request may name: the probe's own objects (and, for reads, the control set). */
  usable(op: Operation, param: string): readonly string[];
  /** The control set, named only by requests that cannot be valid (and by callers that must be refused). */
  control(op: Operation, param: string): readonly string[];
}

export interface CaseOptions {
  fuzzer: SchemaFuzzer;
  seed: number;
  /** Generated requests per operation (fixed raw bodies and the authorization matrix come on top). */
  count: number;
  targets: Targets;
  /** Bytes of the oversized bodies: more than any route reads. */
  oversizedBytes: number;
  /** Requests made from real data rather than schemas (e.g. a backup the controller exported), sent as they are. */
  examples?: (op: Operation) => Example[];
}

export interface Example {
  note: string;
  /** Appended to the operation's path (with its parameters filled as for valid requests). */
  query?: string;
  body: unknown;
  /** Must be refused with a 4xx. */
  mustRefuse?: boolean;
}

/** A deterministic seed per operation, so adding an operation does not change the others' cases. */
function seedOf(seed: number, key: string): number {
  let h = 2166136261 ^ seed;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** Percent-encodes every byte but the unreserved ones (lone surrogates become U+FFFD, as UTF-8 can carry no other). */
export function encodeSegment(value: string): string {
  return [...Buffer.from(value, 'utf8')]
    .map((b) => (/[A-Za-z0-9\-_.~]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`))
    .join('');
}

function fillPath(op: Operation, values: Record<string, string>, encoded = false): string {
  return op.path.replace(/\{(\w+)\}/g, (_, name: string) => (encoded ? values[name]! : encodeSegment(String(values[name] ?? 'x'))));
}

/** A query object as the extended (qs) parser reads it back: arrays repeat the key, objects nest in brackets. */
function queryString(query: Record<string, unknown>): string {
  const parts: string[] = [];
  const add = (key: string, value: unknown) => {
    if (value === undefined) return;
    if (Array.isArray(value)) for (const v of value) add(key, v);
    else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) add(`${key}[${k}]`, v);
    else parts.push(`${encodeSegment(key).replace(/%5B/g, '[').replace(/%5D/g, ']')}=${encodeSegment(String(value))}`);
  };
  for (const [k, v] of Object.entries(query)) add(k, v);
  return parts.length > 0 ? `?${parts.join('&')}` : '';
}

const json = (value: unknown): Pick<ProbeRequest, 'body' | 'contentType'> => ({ body: Buffer.from(toJsonText(value)), contentType: 'application/json' });
/** A query no operation accepts, where one has a bounded parameter (e.g. reason longer than its maximum). */
function unacceptableQuery(op: Operation): string | undefined {
  const bounded = op.queryParams.find((p) => typeof p.schema.maxLength === 'number');
  return bounded ? `?${bounded.name}=${'x'.repeat(bounded.schema.maxLength + 1)}` : undefined;
}

export function casesFor(op: Operation, options: CaseOptions): ProbeCase[] {
  const { fuzzer, targets, count } = options;
  const seed = seedOf(options.seed, op.key);
  const sample = <T>(arb: fc.Arbitrary<T>, n: number, salt: number): T[] => (n > 0 ? fc.sample(arb, { seed: seed + salt, numRuns: n }) : []);
  const allowed = CALLERS.filter((c) => callerAllowed(op, c) && c !== 'unknown');
  const callers = allowed.length > 0 ? allowed : (['none'] as Caller[]);
  let turn = 0;
  const nextCaller = () => callers[turn++ % callers.length]!;
  const cases: ProbeCase[] = [];
  const add = (kind: CaseKind, request: Omit<ProbeRequest, 'method'>, note: string, caller = nextCaller(), expectStatus?: number) =>
    cases.push({ op, kind, caller, request: { method: op.method, ...request }, note, expectStatus });

  const paramValues = (pick: (param: string) => readonly string[], n: number, salt: number): Array<Record<string, string>> =>
    sample(
      fc.record(
        Object.fromEntries(
          op.pathParams.map((p) => {
            const known = pick(p.name);
            const generated = fuzzer.valid(p.schema) as fc.Arbitrary<string>;
            return [p.name, known.length > 0 ? fc.oneof({ arbitrary: fc.constantFrom(...known), weight: 3 }, { arbitrary: generated, weight: 1 }) : generated];
          }),
        ),
      ),
      n,
      salt,
    );
  const querySchema: JsonSchema = {
    type: 'object',
    properties: Object.fromEntries(op.queryParams.map((p) => [p.name, p.schema])),
    required: op.queryParams.filter((p) => p.required).map((p) => p.name),
  };
  const validQueries = (n: number, salt: number) => sample(fuzzer.valid(querySchema), n, salt).map((q) => queryString(q as Record<string, unknown>));
  const usable = (n: number, salt: number) => paramValues((name) => targets.usable(op, name), n, salt);
  const control = op.pathParams.length > 0 && op.pathParams.some((p) => targets.control(op, p.name).length > 0);
  const controlPath = () =>
    fillPath(op, Object.fromEntries(op.pathParams.map((p) => [p.name, targets.control(op, p.name)[0] ?? targets.usable(op, p.name)[0] ?? 'x'])));

  const nValid = Math.max(2, Math.ceil(count * (op.body ? 0.35 : 0.3)));
  const nInvalid = op.body ? Math.ceil(count * 0.35) : 0;
  const rest = Math.max(0, count - nValid - nInvalid);
  const nOddPath = op.pathParams.length > 0 ? Math.ceil(rest / 2) : 0;
  const nOddQuery = rest - nOddPath;

  // Valid requests.
  const validPaths = usable(nValid + nInvalid, 1);
  const validBodies = op.body ? sample(fuzzer.valid(op.body), nValid, 2) : [];
  validQueries(nValid, 3).forEach((query, i) =>
    add('valid', { path: fillPath(op, validPaths[i] ?? {}) + query, ...(op.body ? json(validBodies[i]) : {}) }, 'valid'),
  );
  // Invalid bodies, on the probe's own objects.
  if (op.body)
    sample(fuzzer.invalid(op.body), nInvalid, 4).forEach((bad, i) =>
      add('invalid-body', { path: fillPath(op, validPaths[nValid + i] ?? {}), ...json(bad.value) }, bad.note),
    );
  // Odd path parameters (each parameter in turn), with an otherwise valid request.
  const oddBody = op.body ? sample(fuzzer.valid(op.body), 1, 5)[0] : undefined;
  const basePath = usable(1, 6)[0] ?? {};
  for (let i = 0; i < nOddPath; i++) {
    const param = op.pathParams[i % op.pathParams.length]!;
    const odd = ODD_PATH_VALUES[(seed + i) % ODD_PATH_VALUES.length]!;
    const values = Object.fromEntries(Object.entries(basePath).map(([k, v]) => [k, encodeSegment(String(v))]));
    values[param.name] = odd;
    add('odd-path', { path: fillPath(op, values, true), ...(oddBody === undefined ? {} : json(oddBody)) }, `path parameter ${param.name}=${odd.slice(0, 40)}`);
  }
  // Odd query strings, on a known parameter when there is one.
  for (let i = 0; i < nOddQuery; i++) {
    const name = op.queryParams.length > 0 && i % 3 !== 2 ? op.queryParams[i % op.queryParams.length]!.name : 'unknown';
    const queries = oddQueries(name);
    const query = queries[(seed + i) % queries.length]!;
    add('odd-query', { path: `${fillPath(op, basePath)}?${query}`, ...(oddBody === undefined ? {} : json(oddBody)) }, `query ${query.slice(0, 60)}`);
  }
  // Odd headers, a few per operation in turn (an Authorization header set here replaces the caller's).
  for (let i = 0; i < 3; i++) {
    const headers = ODD_HEADERS[(seed + i) % ODD_HEADERS.length]!;
    add(
      'odd-header',
      { path: fillPath(op, basePath), headers, ...(oddBody === undefined ? {} : json(oddBody)) },
      `header ${JSON.stringify(headers).slice(0, 80)}`,
    );
  }
  for (const example of options.examples?.(op) ?? []) {
    add('valid', { path: fillPath(op, basePath) + (example.query ?? ''), ...json(example.body) }, example.note);
    cases.at(-1)!.mustRefuse = example.mustRefuse;
  }
  if (op.body) {
    const target = control ? controlPath() : fillPath(op, basePath);
    for (const [note, body] of UNACCEPTABLE_BODIES) add('raw-body', { path: target, ...body }, `${note}${control ? ' (control set)' : ''}`);
    for (const [note, body] of ODD_BODIES) add('raw-body', { path: fillPath(op, basePath), ...body }, note);
    for (const bad of fuzzer.amplifying(op.body, seed)) add('invalid-body', { path: fillPath(op, basePath), ...json(bad.value) }, bad.note);
    if (op.auth !== 'admin') for (const big of fuzzer.growing(op.body, seed)) add('valid', { path: fillPath(op, basePath), ...json(big.value) }, big.note);
    const oversized = raw(`{"pad":"${'x'.repeat(options.oversizedBytes)}"}`);
    add('oversized', { path: target, ...oversized, chunked: true }, `${options.oversizedBytes} bytes, streamed without a length`);
  } else if (control && op.method !== 'GET') {
    const query = unacceptableQuery(op);
    if (query) add('raw-body', { path: controlPath() + query }, `an over-long query parameter (control set)`);
  }
  return cases;
}

/**
 * The authorization matrix: every caller that may not call the operation, with a valid request
 * naming the control set, must get 401 (no token we know) or 403 (wrong kind or role). With a
 * body larger than any route reads too, as the token is checked before the body is read.
 */
export function refusedCallerCases(op: Operation, options: CaseOptions): ProbeCase[] {
  if (op.auth === 'none') return [];
  const seed = seedOf(options.seed, `refused ${op.key}`);
  const { targets } = options;
  const path = fillPath(op, Object.fromEntries(op.pathParams.map((p) => [p.name, targets.control(op, p.name)[0] ?? targets.usable(op, p.name)[0] ?? 'x'])));
  const body = op.body ? fc.sample(options.fuzzer.valid(op.body), { seed, numRuns: 1 })[0] : undefined;
  const cases: ProbeCase[] = [];
  for (const caller of CALLERS.filter((c) => !callerAllowed(op, c))) {
    const request = { method: op.method, path, ...(op.body ? json(body) : {}) };
    cases.push({ op, kind: 'refused-caller', caller, request, note: 'a valid request from a caller who may not make it', expectStatus: refusalFor(caller) });
  }
  if (op.body) {
    const oversized = raw(`{"pad":"${'x'.repeat(options.oversizedBytes)}"}`);
    const wrongRole = CALLERS.find((c) => c !== 'none' && c !== 'unknown' && !callerAllowed(op, c));
    for (const caller of ['none', ...(wrongRole ? [wrongRole] : [])] as Caller[]) {
      const request = { method: op.method, path, ...oversized };
      cases.push({
        op,
        kind: 'refused-caller',
        caller,
        request,
        note: `${options.oversizedBytes} bytes before the token is checked`,
        expectStatus: refusalFor(caller),
      });
    }
  }
  return cases;
}
