import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../infra/problem.js';
import { refusalOf } from './connection-gate.js';
import { abortHandshake } from './websocket-upgrade.js';

/** A socket stand-in that keeps what the server writes. */
function capturingSocket(): { socket: PassThrough; written: () => string } {
  const socket = new PassThrough();
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  return { socket, written: () => Buffer.concat(chunks).toString('utf8') };
}

describe('abortHandshake', () => {
  it('answers a refusal as a complete HTTP response, then destroys the socket', async () => {
    const { socket, written } = capturingSocket();
    abortHandshake(socket, refusalOf(new ApiError('unauthorized', 'an agent token is required')));
    await once(socket, 'close');
    const body =
      '{"type":"https://cybercorp.dev/problems/unauthorized","title":"Unauthorized","status":401,' +
      '"detail":"an agent token is required","code":"unauthorized"}';
    expect(written()).toBe(
      'HTTP/1.1 401 Unauthorized\r\n' +
        'Connection: close\r\n' +
        'Content-Type: application/problem+json\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        'WWW-Authenticate: Bearer\r\n' +
        '\r\n' +
        body,
    );
    expect(socket.destroyed).toBe(true);
  });

  it('takes the reason phrase from the status and passes the refusal headers on', async () => {
    const { socket, written } = capturingSocket();
    const refusal = refusalOf(new ApiError('service_unavailable', 'try later'));
    abortHandshake(socket, { ...refusal, headers: { 'Retry-After': '5' } });
    await once(socket, 'close');
    const [head] = written().split('\r\n\r\n');
    expect(head!.split('\r\n')).toEqual([
      'HTTP/1.1 503 Service Unavailable',
      'Connection: close',
      'Content-Type: application/problem+json',
      expect.stringMatching(/^Content-Length: \d+$/),
      'Retry-After: 5',
    ]);
  });

  it('only destroys a socket that can no longer be written', () => {
    const { socket, written } = capturingSocket();
    socket.end();
    abortHandshake(socket, refusalOf(new ApiError('not_found', 'no OpAMP endpoint at /x')));
    expect(socket.destroyed).toBe(true);
    expect(written()).toBe('');
  });
});
