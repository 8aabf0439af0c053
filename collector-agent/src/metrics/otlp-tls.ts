import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from '../config/config-error.js';

/**
 * The OTLP exporter's TLS settings, checked before the exporter starts. The OTel gRPC exporter
 * reads the standard variables itself (the agent passes it neither URL nor credentials, so they
 * apply), but a file it cannot read only becomes a diagnostic and a quiet fallback: the system
 * store instead of the given CA, no client certificate when one of the pair is missing. Here the
 * same cases stop the agent with the variable named.
 */
export interface OtlpTls {
  /** The endpoint the exporter connects to. */
  endpoint: string;
  /** Whether the exporter will use TLS for it (https://, or no scheme without INSECURE=true). */
  tls: boolean;
  /** The variables in effect (signal-specific before general), by setting. */
  files: Partial<Record<OtlpTlsFile, { variable: string; path: string }>>;
}

type OtlpTlsFile = 'certificate' | 'clientKey' | 'clientCertificate';

const FILE_VARIABLES: Record<OtlpTlsFile, string> = {
  certificate: 'CERTIFICATE',
  clientKey: 'CLIENT_KEY',
  clientCertificate: 'CLIENT_CERTIFICATE',
};

const PEM_BLOCK: Record<OtlpTlsFile, RegExp> = {
  certificate: /-----BEGIN CERTIFICATE-----/,
  clientCertificate: /-----BEGIN CERTIFICATE-----/,
  clientKey: /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/,
};

/** OTEL_EXPORTER_OTLP_METRICS_<NAME>, else OTEL_EXPORTER_OTLP_<NAME>; blank means unset. */
function setting(
  env: NodeJS.ProcessEnv,
  name: string,
): { variable: string; value: string } | undefined {
  for (const variable of [`OTEL_EXPORTER_OTLP_METRICS_${name}`, `OTEL_EXPORTER_OTLP_${name}`]) {
    const value = env[variable]?.trim();
    if (value) return { variable, value };
  }
  return undefined;
}

export function otlpTlsFromEnv(env: NodeJS.ProcessEnv): OtlpTls {
  const endpoint = setting(env, 'ENDPOINT')?.value ?? 'http://localhost:4317';
  // The exporter's rule (from the OTLP specification): the scheme decides; without one, TLS
  // unless OTEL_EXPORTER_OTLP_[METRICS_]INSECURE=true.
  const tls = /^https:\/\//i.test(endpoint)
    ? true
    : /^http:\/\//i.test(endpoint)
      ? false
      : setting(env, 'INSECURE')?.value.toLowerCase() !== 'true';
  const files: OtlpTls['files'] = {};
  for (const [file, name] of Object.entries(FILE_VARIABLES) as Array<[OtlpTlsFile, string]>) {
    const found = setting(env, name);
    if (found) files[file] = { variable: found.variable, path: found.value };
  }
  return { endpoint, tls, files };
}

/** Reads every file the settings name, as the exporter will; refuses what it would ignore. */
export function checkOtlpTls(settings: OtlpTls, cwd = process.cwd()): void {
  for (const [file, entry] of Object.entries(settings.files) as Array<
    [OtlpTlsFile, { variable: string; path: string }]
  >) {
    let text: string;
    try {
      text = readFileSync(resolve(cwd, entry.path), 'utf8');
    } catch (error) {
      throw new ConfigError(
        `${entry.variable} ${entry.path} cannot be read: ${(error as Error).message}`,
      );
    }
    if (!PEM_BLOCK[file].test(text)) {
      throw new ConfigError(
        `${entry.variable} ${entry.path} holds no PEM ${file === 'clientKey' ? 'private key' : 'certificate'}`,
      );
    }
  }
  const { clientKey, clientCertificate } = settings.files;
  if ((clientKey === undefined) !== (clientCertificate === undefined)) {
    const given = clientKey ?? clientCertificate;
    throw new ConfigError(
      `${given?.variable} is set without its pair: mutual TLS needs both ` +
        'OTEL_EXPORTER_OTLP_CLIENT_KEY and OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE ' +
        '(or both _METRICS_ forms)',
    );
  }
}

/** For the start-up log: how the metrics travel. Paths only; the key's content never. */
export function describeOtlpTls(settings: OtlpTls): string {
  if (!settings.tls) {
    const ignored = Object.values(settings.files).map((entry) => entry.variable);
    return ignored.length > 0
      ? `plain gRPC (the endpoint is http://; ${ignored.join(', ')} ignored: use https://)`
      : 'plain gRPC';
  }
  const { certificate, clientCertificate } = settings.files;
  return [
    'TLS',
    certificate ? `CA ${certificate.path}` : 'system CAs',
    ...(clientCertificate ? [`client certificate ${clientCertificate.path}`] : []),
  ].join(', ');
}
