import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { addressKey, clientIp, TrustedProxies, TrustedProxiesError } from './client-ip.js';

const from = (remoteAddress: string | undefined, forwardedFor?: string | string[]) =>
  ({
    socket: { remoteAddress },
    headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor },
  }) as unknown as IncomingMessage;

const NONE = TrustedProxies.NONE;

describe('clientIp', () => {
  it('is the socket peer, with IPv4-mapped IPv6 given as IPv4', () => {
    expect(clientIp(from('127.0.0.2'), NONE)).toBe('127.0.0.2');
    expect(clientIp(from('::ffff:10.1.2.3'), NONE)).toBe('10.1.2.3');
    expect(clientIp(from('::1'), NONE)).toBe('::1');
    expect(clientIp(from(undefined), NONE)).toBe('unknown');
  });

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', () => {
    const gateway = TrustedProxies.parse(['10.0.0.5']);
    expect(clientIp(from('127.0.0.9', '203.0.113.7'), NONE)).toBe('127.0.0.9');
    expect(clientIp(from('10.0.0.6', '203.0.113.7'), gateway)).toBe('10.0.0.6');
  });

  it('from a trusted proxy, is the rightmost forwarded address that is not trusted', () => {
    const proxies = TrustedProxies.parse(['10.0.0.0/8', 'fd00::/8']);
    // The client forged the leftmost entry; the gateway appended the address it saw.
    expect(clientIp(from('10.0.0.5', '198.51.100.1, 203.0.113.7'), proxies)).toBe('203.0.113.7');
    // Two trusted hops (an outer load balancer, then the gateway) are both skipped.
    expect(clientIp(from('10.0.0.5', '198.51.100.1, 203.0.113.7, 10.9.9.9'), proxies)).toBe(
      '203.0.113.7',
    );
    // Several header lines count as one list, in order.
    expect(clientIp(from('10.0.0.5', ['198.51.100.1', '203.0.113.7, 10.1.1.1']), proxies)).toBe(
      '203.0.113.7',
    );
    expect(clientIp(from('::ffff:10.0.0.5', '2001:db8::7'), proxies)).toBe('2001:db8::7');
    expect(clientIp(from('fd00::1', '[2001:db8::8]:4711'), proxies)).toBe('2001:db8::8');
    expect(clientIp(from('10.0.0.5', '203.0.113.9:5555'), proxies)).toBe('203.0.113.9');
    expect(clientIp(from('10.0.0.5', '::ffff:203.0.113.10'), proxies)).toBe('203.0.113.10');
  });

  it('falls back to the nearest trusted hop when the header says nothing usable', () => {
    const proxies = TrustedProxies.parse(['10.0.0.5', '10.0.0.6']);
    expect(clientIp(from('10.0.0.5'), proxies)).toBe('10.0.0.5');
    expect(clientIp(from('10.0.0.5', ''), proxies)).toBe('10.0.0.5');
    // Garbage is never a client address: the walk stops at the hop that appended it.
    expect(clientIp(from('10.0.0.5', '203.0.113.7, not-an-ip'), proxies)).toBe('10.0.0.5');
    expect(clientIp(from('10.0.0.5', 'not-an-ip, 10.0.0.6'), proxies)).toBe('10.0.0.6');
    // Every hop trusted: the leftmost is as far as the chain goes.
    expect(clientIp(from('10.0.0.5', '10.0.0.6'), proxies)).toBe('10.0.0.6');
  });
});

describe('TrustedProxies', () => {
  it('matches IPv4 and IPv6 addresses and CIDRs', () => {
    const proxies = TrustedProxies.parse([
      '127.0.0.2',
      '192.168.0.0/16',
      '2001:db8::/32',
      '::1',
      '::ffff:172.16.0.1',
    ]);
    for (const yes of ['127.0.0.2', '192.168.44.1', '2001:db8:1::9', '::1', '172.16.0.1']) {
      expect(proxies.has(yes), yes).toBe(true);
    }
    for (const no of ['127.0.0.3', '192.169.0.1', '2001:db9::1', '::2', 'unknown', '']) {
      expect(proxies.has(no), no).toBe(false);
    }
    expect(TrustedProxies.parse([]).has('127.0.0.1')).toBe(false);
  });

  it('refuses what is neither an address nor a CIDR, naming it', () => {
    for (const bad of [
      'gateway',
      '10.0.0.0/33',
      '2001:db8::/129',
      '10.0.0.1/8/1',
      '10.0.0/8',
      '1.2.3.4/x',
      '/8',
    ]) {
      expect(() => TrustedProxies.parse([bad]), bad).toThrow(TrustedProxiesError);
      expect(() => TrustedProxies.parse([bad]), bad).toThrow(bad);
    }
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
