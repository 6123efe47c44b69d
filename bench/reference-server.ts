/**
 * Calibration only: a bare node:http server that answers every request with the controller's own
 * pre-rendered features bytes (same headers, same ETag/304 logic, no framework, no auth). Loading it
 * the same way as the controller shows what this machine and load generator can do at best, so the
 * gap to the controller is the controller's own per-request cost.
 *
 * Started by run.ts as a separate process: `node --import tsx bench/reference-server.ts <gzipFile> <jsonFile> <tag>`;
 * prints the port on stdout once listening.
 */
import http from 'node:http';
import { readFileSync } from 'node:fs';

const [gzipFile, jsonFile, tag] = process.argv.slice(2);
const gzip = readFileSync(gzipFile!);
const json = readFileSync(jsonFile!);

const server = http.createServer((req, res) => {
  const wantsGzip = /\bgzip\b/.test(req.headers['accept-encoding'] ?? '');
  res.setHeader('Vary', 'Accept-Encoding');
  res.setHeader('Cache-Control', 'no-cache');
  res.setHeader('ETag', wantsGzip ? `"${tag}-gzip"` : `"${tag}"`);
  const inm = req.headers['if-none-match'];
  if (
    inm &&
    inm
      .replace(/^W\//, '')
      .replace(/"/g, '')
      .replace(/-gzip$/, '') === tag
  ) {
    res.statusCode = 304;
    res.end();
    return;
  }
  const body = wantsGzip ? gzip : json;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  if (wantsGzip) res.setHeader('Content-Encoding', 'gzip');
  res.setHeader('Content-Length', body.length);
  res.end(body);
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${typeof address === 'object' && address ? address.port : 0}\n`);
});
process.on('SIGTERM', () => process.exit(0));
