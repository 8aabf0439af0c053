import { isIPv6 } from 'node:net';
import type { IncomingMessage } from 'node:http';

/**
 * The address a request comes from: the one place that decides it, so that trusting a proxy's
 * `X-Forwarded-For` later changes only this function. IPv4-mapped IPv6 (`::ffff:1.2.3.4`) is
 * given as the IPv4 address.
 */
export function clientIp(req: IncomingMessage): string {
  const address = req.socket.remoteAddress ?? 'unknown';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/**
 * The key a per-address limit counts under. One IPv6 host usually owns a whole /64, so it counts
 * as one address there; an IPv4 address counts alone.
 */
export function addressKey(ip: string): string {
  if (!isIPv6(ip)) return ip;
  const [head = '', tail = ''] = ip.split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const missing = ip.includes('::') ? 8 - headGroups.length - tailGroups.length : 0;
  const groups = [...headGroups, ...Array<string>(missing).fill('0'), ...tailGroups];
  return `${groups
    .slice(0, 4)
    .map((g) => g.toLowerCase().replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}
