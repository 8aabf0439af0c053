import { homedir } from 'node:os';
import { join } from 'node:path';

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
}

export function readEnvironment(env: NodeJS.ProcessEnv): AgentEnvironment {
  const value = (name: string) => {
    const v = env[name]?.trim();
    return v === '' ? undefined : v;
  };
  return {
    controlUrl: value('CYBERCORP_CONTROL_URL'),
    agentToken: value('CYBERCORP_AGENT_TOKEN'),
    stateDir: value('CYBERCORP_AGENT_STATE_DIR'),
  };
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
    throw new Error(`CYBERCORP_CONTROL_URL is not a URL: ${url}`);
  }
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') {
    throw new Error(`CYBERCORP_CONTROL_URL must be ws:// or wss://, got ${parsed.protocol}`);
  }
  return parsed;
}
