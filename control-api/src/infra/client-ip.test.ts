import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { addressKey, clientIp } from './client-ip.js';

const from = (remoteAddress: string | undefined) =>
  ({ socket: { remoteAddress } }) as unknown as IncomingMessage;

describe('clientIp', () => {
  it('is the socket peer, with IPv4-mapped IPv6 given as IPv4', () => {
    expect(clientIp(from('127.0.0.2'))).toBe('127.0.0.2');
    expect(clientIp(from('::ffff:10.1.2.3'))).toBe('10.1.2.3');
    expect(clientIp(from('::1'))).toBe('::1');
    expect(clientIp(from(undefined))).toBe('unknown');
  });
});

describe('addressKey', () => {
  it('keeps IPv4 addresses and groups IPv6 addresses by /64', () => {
    expect(addressKey('192.0.2.7')).toBe('192.0.2.7');
    expect(addressKey('2001:db8:0:1::5')).toBe('2001:db8:0:1::/64');
    expect(addressKey('2001:DB8:0000:0001:ffff:1:2:3')).toBe('2001:db8:0:1::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('fe80::1')).toBe('fe80:0:0:0::/64');
  });
});
