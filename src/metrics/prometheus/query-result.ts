import { z } from 'zod';

/**
 * What a metric query gives a gate: one finite number, or the reason there is none. There is no
 * third case on purpose: every failure (unreachable, refused, empty, ambiguous, not a number) is
 * inconclusive, so a broken query can hold a rollout but never pass a gate.
 */
export type QueryResult = { kind: 'value'; value: number; series: number } | { kind: 'inconclusive'; reason: string };

export function inconclusive(reason: string): QueryResult {
  return { kind: 'inconclusive', reason };
}

/** Prometheus' error texts can be long (a whole query echoed back); a reason stays one readable line. */
export function shortText(text: string, max = 300): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

// Prometheus' HTTP API: https://prometheus.io/docs/prometheus/latest/querying/api/ (instant queries).
const sampleSchema = z.tuple([z.number(), z.string()]);
const responseSchema = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('success'),
    data: z.discriminatedUnion('resultType', [
      z.object({ resultType: z.literal('vector'), result: z.array(z.object({ metric: z.record(z.string(), z.string()), value: sampleSchema })) }),
      z.object({ resultType: z.literal('scalar'), result: sampleSchema }),
      z.object({ resultType: z.literal('matrix'), result: z.array(z.unknown()) }),
      z.object({ resultType: z.literal('string'), result: z.unknown() }),
    ]),
  }),
  z.object({ status: z.literal('error'), errorType: z.string().optional(), error: z.string().optional() }),
]);

/** A sample's value as Prometheus writes it ("0.05", "NaN", "+Inf"); only a finite number counts. */
function finite(text: string, series: number): QueryResult {
  const value = Number(text);
  if (!Number.isFinite(value)) return inconclusive(`the query gave ${text} (no traffic in the window gives 0/0 = NaN)`);
  return { kind: 'value', value, series };
}

/** Reads an answer of `/api/v1/query` (any HTTP status; Prometheus explains errors in the body). */
export function interpretQueryResponse(status: number, body: string): QueryResult {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return inconclusive(`Prometheus answered ${status} with a body that is not JSON: ${shortText(body, 120)}`);
  }
  const parsed = responseSchema.safeParse(json);
  if (!parsed.success) return inconclusive(`Prometheus answered ${status} with an unexpected body: ${shortText(body, 120)}`);
  const answer = parsed.data;
  if (answer.status === 'error') {
    return inconclusive(`Prometheus refused the query (${status} ${answer.errorType ?? 'error'}): ${shortText(answer.error ?? 'no message')}`);
  }
  if (status < 200 || status > 299) return inconclusive(`Prometheus answered ${status}`);

  const data = answer.data;
  switch (data.resultType) {
    case 'scalar':
      return finite(data.result[1], 0);
    case 'vector': {
      const n = data.result.length;
      if (n === 0) return inconclusive('no data: the query matched no series at that time');
      // Several series have no single value to compare; guessing one (first? sum?) could pass a gate
      // on the wrong series. The template must aggregate, e.g. sum(...) or max(...).
      if (n > 1) return inconclusive(`the query returned ${n} series; aggregate it to one (e.g. sum(...) or max(...))`);
      return finite(data.result[0]!.value[1], 1);
    }
    case 'matrix':
      return inconclusive('the query returned a range vector; wrap it in a function such as rate(...[{{window}}])');
    case 'string':
      return inconclusive('the query returned a string, not a number');
  }
}
