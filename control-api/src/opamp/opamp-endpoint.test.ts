import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { TrustedProxies } from '../infra/client-ip.js';
import { opampEndpointOf } from './opamp-endpoint.js';

/** The gateway in front of the API; every other peer is a client. */
const GATEWAY = TrustedProxies.parse(['10.0.0.0/8']);

function requestOf(
  remoteAddress: string,
  headers: Record<string, string>,
  encrypted = false,
): IncomingMessage {
  return { headers, socket: { remoteAddress, encrypted } } as unknown as IncomingMessage;
}

const FORWARDED = {
  host: 'api-1.internal:8080',
  'x-forwarded-host': 'fleet.example.com, api-1.internal:8080',
  'x-forwarded-proto': 'https',
};

describe('opampEndpointOf', () => {
  it('ignores X-Forwarded-Host and -Proto from a peer that is not a trusted proxy', () => {
    const request = requestOf('203.0.113.7', FORWARDED);
    expect(opampEndpointOf(request, 'websocket', GATEWAY)).toBe(
      'ws://api-1.internal:8080/v1/opamp',
    );
    expect(opampEndpointOf(request, 'http', TrustedProxies.NONE)).toBe(
      'http://api-1.internal:8080/v1/opamp',
    );
    // The scheme is the socket's own: a forged "http" does not downgrade a TLS connection.
    const overTls = requestOf('203.0.113.7', { ...FORWARDED, 'x-forwarded-proto': 'http' }, true);
    expect(opampEndpointOf(overTls, 'websocket', GATEWAY)).toBe(
      'wss://api-1.internal:8080/v1/opamp',
    );
  });

  it('takes the first X-Forwarded-Host and -Proto from a trusted proxy', () => {
    const request = requestOf('::ffff:10.1.2.3', FORWARDED);
    expect(opampEndpointOf(request, 'websocket', GATEWAY)).toBe('wss://fleet.example.com/v1/opamp');
    expect(opampEndpointOf(request, 'http', GATEWAY)).toBe('https://fleet.example.com/v1/opamp');
  });

  it('uses Host and the socket behind a trusted proxy that sends no forwarding headers', () => {
    const request = requestOf('10.1.2.3', { host: 'api-1.internal:8443' }, true);
    expect(opampEndpointOf(request, 'http', GATEWAY)).toBe('https://api-1.internal:8443/v1/opamp');
  });

  it('offers nothing when the host it would use is not a host name', () => {
    expect(opampEndpointOf(requestOf('203.0.113.7', {}), 'http', GATEWAY)).toBeUndefined();
    const badForwarded = requestOf('10.1.2.3', { ...FORWARDED, 'x-forwarded-host': 'a b' });
    expect(opampEndpointOf(badForwarded, 'http', GATEWAY)).toBeUndefined();
  });
});
