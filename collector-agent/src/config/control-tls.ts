import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import type { ControlTls } from '../opamp/websocket-transport.js';
import { ConfigError } from './config-error.js';
import type { AgentEnvironment } from './env.js';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/;

/** Whether a URL's host is this machine's loopback (127.0.0.0/8, ::1, localhost). */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1' || /^::ffff:127\./.test(host);
}

/**
 * How the agent secures its control connection, decided once at start:
 * - wss:// verifies the server against CYBERCORP_CA_FILE (else the system store) and, when
 *   CYBERCORP_TLS_PIN_SHA256 is set, its pins;
 * - ws:// sends the agent token in clear text, so it is refused for a host other than loopback
 *   unless ALLOW_PLAINTEXT_HTTP=true, and CA or pins with ws:// are an error (they could not be
 *   checked, and a silently unpinned agent is worse than one that does not start).
 */
export async function resolveControlTls(
  url: URL,
  environment: Pick<AgentEnvironment, 'agentToken' | 'caFile' | 'tlsPins' | 'allowPlaintext'>,
): Promise<ControlTls | undefined> {
  if (url.protocol === 'ws:') {
    for (const [name, set] of [
      ['CYBERCORP_CA_FILE', environment.caFile !== undefined],
      ['CYBERCORP_TLS_PIN_SHA256', environment.tlsPins !== undefined],
    ] as const) {
      if (set) {
        throw new ConfigError(
          `${name} is set but CYBERCORP_CONTROL_URL is ws:// (${url.host}), which has no TLS to ` +
            'check it against: use wss://',
        );
      }
    }
    if (environment.agentToken && !isLoopbackHost(url.hostname) && !environment.allowPlaintext) {
      throw new ConfigError(
        `refusing to send the agent token in clear text: CYBERCORP_CONTROL_URL is ws:// to ` +
          `${url.host}, which is not loopback. Use wss://, or set ALLOW_PLAINTEXT_HTTP=true ` +
          'when a private network between agent and server is protected otherwise',
      );
    }
    return undefined;
  }
  return {
    ca: environment.caFile === undefined ? undefined : await readCaFile(environment.caFile),
    pins: environment.tlsPins,
  };
}

async function readCaFile(path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`CYBERCORP_CA_FILE ${path} cannot be read: ${(error as Error).message}`);
  }
  if (!PEM_CERTIFICATE.test(text)) {
    throw new ConfigError(`CYBERCORP_CA_FILE ${path} holds no PEM certificate`);
  }
  return text;
}
