import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { OPAMP_PATH } from '@cybercorp/protocol';

const HOST = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

/**
 * The OpAMP URL the agent reached this server at, for `OpAMPConnectionSettings
 * .destination_endpoint` (which must never be empty): the agent is told to keep using the URL it
 * used. Behind a proxy, `X-Forwarded-Proto` and `X-Forwarded-Host` say what the agent used.
 * undefined when the request does not name a usable host; no settings are offered then.
 */
export function opampEndpointOf(
  request: IncomingMessage,
  transport: 'websocket' | 'http',
): string | undefined {
  const host = firstValue(request.headers['x-forwarded-host']) ?? request.headers.host;
  if (!host || !HOST.test(host)) return undefined;
  const forwardedProto = firstValue(request.headers['x-forwarded-proto'])?.toLowerCase();
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
