import { STATUS_CODES, maxHeaderSize } from 'node:http';
import type { Duplex } from 'node:stream';
import { ApiError, PROBLEM_CONTENT_TYPE, problemOf } from './problem.js';

/**
 * The http server's `clientError` handler: requests Node refuses before Express sees them
 * (headers over `maxHeaderSize`, bytes that are not HTTP) get problem+json with a stable code
 * instead of Node's bare status line. Like Node, it answers only a connection that has not
 * written anything yet, so a response in progress is never corrupted.
 */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  const fresh =
    socket.writable && (socket as Duplex & { bytesWritten?: number }).bytesWritten === 0;
  if (error.code === 'ECONNRESET' || !fresh) {
    socket.destroy();
    return;
  }
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    socket.end('HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n');
    return;
  }
  const refusal =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? new ApiError(
          'headers_too_large',
          `the request headers are larger than the ${maxHeaderSize} bytes accepted`,
        )
      : new ApiError('bad_request', 'the request is not valid HTTP/1.1');
  const body = JSON.stringify(problemOf(refusal));
  socket.end(
    [
      `HTTP/1.1 ${refusal.status} ${STATUS_CODES[refusal.status] ?? 'Error'}`,
      'Connection: close',
      `Content-Type: ${PROBLEM_CONTENT_TYPE}`,
      `Content-Length: ${Buffer.byteLength(body)}`,
      'Cache-Control: no-store',
      '',
      body,
    ].join('\r\n'),
  );
}
