import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { OPAMP_PATH } from '@cybercorp/protocol';
import { fromTrustedProxy, type TrustedProxies } from '../infra/client-ip.js';

const HOST = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

/**
 * The OpAMP URL the agent reached this server at, for `OpAMPConnectionSettings
 * .destination_endpoint` (which must never be empty): the agent is told to keep using the URL it
 * used. Behind a trusted proxy (TRUSTED_PROXIES), `X-Forwarded-Proto` and `X-Forwarded-Host` say
 * what the agent used; from any other peer they are ignored, or a client could point the agents
 * that follow the offer at a server of its choosing. undefined when the request does not name a
 * usable host; no settings are offered then.
 */
export function opampEndpointOf(
  request: IncomingMessage,
  transport: 'websocket' | 'http',
  trustedProxies: TrustedProxies,
): string | undefined {
  const proxied = fromTrustedProxy(request, trustedProxies);
  const forwarded = (name: string) => (proxied ? firstValue(request.headers[name]) : undefined);
  const host = forwarded('x-forwarded-host') ?? request.headers.host;
  if (!host || !HOST.test(host)) return undefined;
  const forwardedProto = forwarded('x-forwarded-proto')?.toLowerCase();
  const secure =
    forwardedProto !== undefined
      ? forwardedProto === 'https' || forwardedProto === 'wss'
      : (request.socket as Partial<TLSSocket>).encrypted === true;
  const scheme = transport === 'websocket' ? (secure ? 'wss' : 'ws') : secure ? 'https' : 'http';
  return `${scheme}://${host}${OPAMP_PATH}`;
}

function firstValue(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  const first = value?.split(',')[0]?.trim();
  return first === '' ? undefined : first;
}
