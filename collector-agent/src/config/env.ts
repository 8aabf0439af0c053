import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseSpkiPins, PIN_VARIABLE } from '../opamp/spki-pins.js';
import { ConfigError } from './config-error.js';

/**
 * Every environment variable the agent's code reads, so that deployment files can be checked
 * against it (e2e/kubernetes-manifests.test.ts); env.test.ts proves the readers read no other.
 * The OTLP exporter also reads the other standard OTEL_EXPORTER_OTLP_* variables itself. The
 * TLS and buffer names are the ones fixed for issues 11 and 12 (ALLOW_PLAINTEXT_HTTP: ws:// to a
 * host that is not loopback).
 */
export const AGENT_ENVIRONMENT_VARIABLES = [
  'CYBERCORP_CONTROL_URL',
  'CYBERCORP_AGENT_TOKEN',
  'CYBERCORP_AGENT_STATE_DIR',
  'CYBERCORP_CA_FILE',
  'CYBERCORP_TLS_PIN_SHA256',
  'CYBERCORP_BUFFER_MAX_BYTES',
  'CYBERCORP_BUFFER_SPOOL',
  'ALLOW_PLAINTEXT_HTTP',
  'XDG_STATE_HOME',
  'HOME',
  'DISPLAY',
  'LOG_LEVEL',
  'CYBERCORP_LOG_LEVEL',
  'LOG_DEBUG_SAMPLE',
  'LOG_FILE',
  'LOG_FILE_COUNT',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT',
  'OTEL_EXPORTER_OTLP_CERTIFICATE',
  'OTEL_EXPORTER_OTLP_CLIENT_KEY',
  'OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE',
  'OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE',
  'OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY',
  'OTEL_EXPORTER_OTLP_METRICS_CLIENT_CERTIFICATE',
  'OTEL_METRIC_EXPORT_INTERVAL',
  'OTEL_METRICS_EXPORTER',
  'OTEL_RESOURCE_ATTRIBUTES',
  'OTEL_SERVICE_NAME',
] as const;

/** What the agent takes from its environment (secrets included, so never log this whole). */
export interface AgentEnvironment {
  /** OpAMP WebSocket URL; without it the agent runs telemetry only. */
  controlUrl: string | undefined;
  agentToken: string | undefined;
  stateDir: string | undefined;
  /** CYBERCORP_CA_FILE: PEM bundle that verifies the control plane instead of the system store. */
  caFile: string | undefined;
  /** CYBERCORP_TLS_PIN_SHA256, parsed: RFC 7469 SPKI SHA-256 pins, bare base64. */
  tlsPins: string[] | undefined;
  /** ALLOW_PLAINTEXT_HTTP=true: the token may travel over ws:// to a non-loopback host. */
  allowPlaintext: boolean;
}

export function readEnvironment(env: NodeJS.ProcessEnv): AgentEnvironment {
  const value = (name: string) => {
    const v = env[name]?.trim();
    return v === '' ? undefined : v;
  };
  const pins = value(PIN_VARIABLE);
  return {
    controlUrl: value('CYBERCORP_CONTROL_URL'),
    agentToken: value('CYBERCORP_AGENT_TOKEN'),
    stateDir: value('CYBERCORP_AGENT_STATE_DIR'),
    caFile: value('CYBERCORP_CA_FILE'),
    tlsPins: pins === undefined ? undefined : parseSpkiPins(pins),
    allowPlaintext: parseBoolean('ALLOW_PLAINTEXT_HTTP', value('ALLOW_PLAINTEXT_HTTP')),
  };
}

function parseBoolean(name: string, raw: string | undefined): boolean {
  if (raw === undefined || raw.toLowerCase() === 'false') return false;
  if (raw.toLowerCase() === 'true') return true;
  throw new ConfigError(`${name} must be "true" or "false", got "${raw}"`);
}

/** Precedence: environment, then config file, then the XDG state directory. */
export function resolveStateDir(
  fromEnv: string | undefined,
  fromConfig: string | undefined,
  env: NodeJS.ProcessEnv,
): string {
  if (fromEnv) return fromEnv;
  if (fromConfig) return fromConfig;
  const xdg = env.XDG_STATE_HOME?.trim();
  return join(
    xdg ? xdg : join(env.HOME?.trim() || homedir(), '.local', 'state'),
    'cybercorp-agent',
  );
}

/** Rejects anything but ws:// and wss:// early, with a message naming the variable. */
export function validateControlUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(`CYBERCORP_CONTROL_URL is not a URL: ${url}`);
  }
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') {
    throw new ConfigError(`CYBERCORP_CONTROL_URL must be ws:// or wss://, got ${parsed.protocol}`);
  }
  return parsed;
}
