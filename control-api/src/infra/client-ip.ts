import { BlockList, isIP, isIPv6 } from 'node:net';
import type { IncomingMessage } from 'node:http';

export class TrustedProxiesError extends Error {
  readonly code = 'invalid_trusted_proxies';
}

/**
 * The peers whose forwarding headers (`X-Forwarded-For`, `-Host`, `-Proto`) are believed
 * (TRUSTED_PROXIES): IPv4 and IPv6 addresses and CIDRs.
 */
export class TrustedProxies {
  static readonly NONE = new TrustedProxies(new BlockList(), 0);

  private constructor(
    private readonly list: BlockList,
    readonly size: number,
  ) {}

  /** Throws TrustedProxiesError naming the first entry that is neither an address nor a CIDR. */
  static parse(entries: readonly string[]): TrustedProxies {
    if (entries.length === 0) return TrustedProxies.NONE;
    const list = new BlockList();
    for (const entry of entries) {
      const [rawAddress = '', prefix, ...rest] = entry.split('/');
      const address = unmapped(rawAddress);
      const family = isIP(address);
      const bits = family === 4 ? 32 : 128;
      const invalid = () =>
        new TrustedProxiesError(
          `${entry} is not an IP address or a CIDR like 10.0.0.0/8 or fd00::/8`,
        );
      if (family === 0 || rest.length > 0) throw invalid();
      const type = family === 4 ? 'ipv4' : 'ipv6';
      if (prefix === undefined) {
        list.addAddress(address, type);
        continue;
      }
      const length = /^\d{1,3}$/.test(prefix) ? Number(prefix) : NaN;
      if (!(length >= 0 && length <= bits)) throw invalid();
      list.addSubnet(address, length, type);
    }
    return new TrustedProxies(list, entries.length);
  }

  has(address: string): boolean {
    const family = isIP(address);
    if (family === 0 || this.size === 0) return false;
    return this.list.check(address, family === 4 ? 'ipv4' : 'ipv6');
  }
}

/** IPv4-mapped IPv6 (`::ffff:1.2.3.4`) as the IPv4 address it is. */
function unmapped(address: string): string {
  return address.toLowerCase().startsWith('::ffff:') && address.includes('.')
    ? address.slice(7)
    : address;
}

/** One `X-Forwarded-For` element as an address: plain, `[v6]`, `[v6]:port` or `v4:port`. */
function forwardedAddress(element: string): string | undefined {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(element);
  const withPort = /^(\d+\.\d+\.\d+\.\d+):\d+$/.exec(element);
  const address = unmapped(bracketed?.[1] ?? withPort?.[1] ?? element);
  return isIP(address) === 0 ? undefined : address;
}

/**
 * Whether the request's socket peer is a trusted proxy, so that its `X-Forwarded-*` headers say
 * what the client sent; from any other peer they are the client's own claims.
 */
export function fromTrustedProxy(req: IncomingMessage, trusted: TrustedProxies): boolean {
  const peer = req.socket.remoteAddress;
  return peer !== undefined && trusted.has(unmapped(peer));
}

/**
 * The address a request comes from, the one place that decides it. The socket peer, unless the
 * peer is a trusted proxy: then the rightmost `X-Forwarded-For` address that is not itself a
 * trusted proxy (each proxy appends the peer it saw, so everything left of the first untrusted
 * hop may be forged by the client). An element that is not an address ends the walk at the
 * trusted hop that appended it; when every hop is trusted, the leftmost is the client. A header
 * from an untrusted peer is ignored. IPv4-mapped IPv6 is given as the IPv4 address.
 */
export function clientIp(req: IncomingMessage, trusted: TrustedProxies): string {
  const peer = req.socket.remoteAddress;
  if (peer === undefined) return 'unknown';
  let client = unmapped(peer);
  if (!fromTrustedProxy(req, trusted)) return client;
  const header = req.headers['x-forwarded-for'];
  const elements = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((element) => element.trim())
    .filter((element) => element !== '');
  for (let i = elements.length - 1; i >= 0; i--) {
    const hop = forwardedAddress(elements[i] ?? '');
    if (hop === undefined) break;
    client = hop;
    if (!trusted.has(hop)) break;
  }
  return client;
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
