import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { LimitLog } from './limit-log.js';

/** What Node itself answers to a request it could not read (it writes these when nobody listens for clientError). */
const ANSWERS: Record<string, string> = {
  ERR_HTTP_REQUEST_TIMEOUT: '408 Request Timeout',
  HPE_HEADER_OVERFLOW: '431 Request Header Fields Too Large',
};

/**
 * Answers requests Node could not read, as Node does (408 when the headers or the whole request
 * came too slowly, 431 for oversized headers, 400 for the rest), and logs a client that ran into
 * the timeouts once in a while rather than per connection: those are limits too (README, "Limits").
 */
export function answerClientErrors(server: Server, limitLog: LimitLog): void {
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
