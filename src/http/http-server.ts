import http from 'node:http';
import type { Duplex } from 'node:stream';
import type { LimitLog } from './limit-log.js';

export interface ServerTimeouts {
  /** HTTP_HEADERS_TIMEOUT_MS: time to receive a request's headers. */
  headersMs: number;
  /** HTTP_REQUEST_TIMEOUT_MS: time to receive the whole request, body included. */
  requestMs: number;
}

/** What Node itself answers to a request it could not read (it writes these when nobody listens for clientError). */
const ANSWERS: Record<string, string> = {
  ERR_HTTP_REQUEST_TIMEOUT: '408 Request Timeout',
  HPE_HEADER_OVERFLOW: '431 Request Header Fields Too Large',
};

/**
 * The controller's HTTP server. A client gets `headersMs` to send its headers and `requestMs` for
 * the whole request, then a 408 and the connection closed: a slow sender cannot hold a connection
 * for Node's default 300 s. Node checks these every connectionsCheckingInterval, so that is a
 * fraction of the shorter one. Streams are not cut: their request ended with its headers.
 */
export function createHttpServer(timeouts: ServerTimeouts, limitLog: LimitLog, handler: http.RequestListener): http.Server {
  const server = http.createServer(
    {
      headersTimeout: timeouts.headersMs,
      requestTimeout: timeouts.requestMs,
      connectionsCheckingInterval: Math.min(1_000, Math.ceil(timeouts.headersMs / 4)),
    },
    handler,
  );
  // Longer than the idle timeout of common load balancers (60 s), so they close idle connections first.
  server.keepAliveTimeout = 65_000;
  answerClientErrors(server, limitLog);
  return server;
}

/**
 * Answers requests Node could not read, as Node does (408 when the headers or the whole request
 * came too slowly, 431 for oversized headers, 400 for the rest), and logs a client that ran into
 * the timeouts once in a while rather than per connection: those are limits too (README, "Limits").
 */
function answerClientErrors(server: http.Server, limitLog: LimitLog): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex & { remoteAddress?: string; bytesWritten?: number }) => {
    const answer = ANSWERS[err.code ?? ''] ?? '400 Bad Request';
    if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      limitLog.refused('HTTP_REQUEST_TIMEOUT_MS', `address ${socket.remoteAddress}`, 'the request (headers, or headers and body) did not arrive in time', {
        headersLimit: 'HTTP_HEADERS_TIMEOUT_MS',
      });
    }
    // A connection reset or already answered gets nothing more.
    if (socket.writable && !socket.bytesWritten) socket.write(`HTTP/1.1 ${answer}\r\nConnection: close\r\n\r\n`);
    socket.destroy();
  });
}
