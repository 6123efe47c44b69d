import { startTestController } from '../support/controller.js';

/**
 * The paths a probe or health check may use: GET routes of a real controller's OpenAPI document
 * that answer 200 without a token. Asked of a running (embedded) controller, so a route that is
 * declared but not mounted, or that needs a token, does not count.
 */
export async function openProbePaths(paths: string[]): Promise<Record<string, number>> {
  const t = await startTestController({ embedded: true });
  try {
    const doc = (await (await fetch(`${t.url}/api/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const answers: Record<string, number> = {};
    for (const p of paths) {
      const declared = doc.paths[p]?.get !== undefined;
      answers[p] = declared ? (await fetch(`${t.url}${p}`)).status : 404;
    }
    return answers;
  } finally {
    await t.stop();
  }
}
