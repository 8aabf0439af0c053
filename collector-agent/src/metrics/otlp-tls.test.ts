import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../config/config-error.js';
import { checkOtlpTls, describeOtlpTls, otlpTlsFromEnv } from './otlp-tls.js';

const CERT = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
// A key made for this run, never stored in the repository.
const KEY = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
  type: 'pkcs8',
  format: 'pem',
});

describe('OTLP export TLS settings', () => {
  let dir: string;
  let ca: string;
  let cert: string;
  let key: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'otlp-tls-'));
    [ca, cert, key] = [join(dir, 'ca.crt'), join(dir, 'client.crt'), join(dir, 'client.key')];
    await writeFile(ca, CERT);
    await writeFile(cert, CERT);
    await writeFile(key, KEY);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('follows the exporter: the scheme decides, without one TLS unless INSECURE=true', () => {
    expect(otlpTlsFromEnv({})).toMatchObject({ endpoint: 'http://localhost:4317', tls: false });
    expect(otlpTlsFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otel:4317' }).tls).toBe(true);
    expect(otlpTlsFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'otel:4317' }).tls).toBe(true);
    expect(
      otlpTlsFromEnv({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'otel:4317',
        OTEL_EXPORTER_OTLP_INSECURE: 'true',
      }).tls,
    ).toBe(false);
    // INSECURE does not turn https:// into plain text.
    expect(
      otlpTlsFromEnv({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otel:4317',
        OTEL_EXPORTER_OTLP_INSECURE: 'true',
      }).tls,
    ).toBe(true);
  });

  it('prefers the _METRICS_ variables over the general ones, setting by setting', () => {
    const settings = otlpTlsFromEnv({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://general:4317',
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'https://metrics:4317',
      OTEL_EXPORTER_OTLP_CERTIFICATE: '/general/ca.crt',
      OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE: '/metrics/ca.crt',
      OTEL_EXPORTER_OTLP_CLIENT_KEY: '/general/client.key',
      OTEL_EXPORTER_OTLP_METRICS_CLIENT_CERTIFICATE: '/metrics/client.crt',
      OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY: ' ',
    });
    expect(settings).toEqual({
      endpoint: 'https://metrics:4317',
      tls: true,
      files: {
        certificate: {
          variable: 'OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE',
          path: '/metrics/ca.crt',
        },
        clientKey: { variable: 'OTEL_EXPORTER_OTLP_CLIENT_KEY', path: '/general/client.key' },
        clientCertificate: {
          variable: 'OTEL_EXPORTER_OTLP_METRICS_CLIENT_CERTIFICATE',
          path: '/metrics/client.crt',
        },
      },
    });
  });

  it('accepts readable PEM files and says how the metrics travel, without the key', () => {
    const settings = otlpTlsFromEnv({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otel:4317',
      OTEL_EXPORTER_OTLP_CERTIFICATE: ca,
      OTEL_EXPORTER_OTLP_CLIENT_KEY: key,
      OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: cert,
    });
    expect(() => checkOtlpTls(settings)).not.toThrow();
    expect(describeOtlpTls(settings)).toBe(`TLS, CA ${ca}, client certificate ${cert}`);
    expect(describeOtlpTls(otlpTlsFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://o:1' }))).toBe(
      'TLS, system CAs',
    );
    expect(
      describeOtlpTls(
        otlpTlsFromEnv({
          OTEL_EXPORTER_OTLP_ENDPOINT: 'http://o:1',
          OTEL_EXPORTER_OTLP_CERTIFICATE: ca,
        }),
      ),
    ).toMatch(/plain gRPC .*OTEL_EXPORTER_OTLP_CERTIFICATE ignored: use https:\/\//);
    // Relative paths are read from the working directory, as the exporter reads them.
    expect(() =>
      checkOtlpTls(otlpTlsFromEnv({ OTEL_EXPORTER_OTLP_CERTIFICATE: 'ca.crt' }), dir),
    ).not.toThrow();
  });

  it('refuses what the exporter would quietly replace: unreadable files, non-PEM, half a pair', () => {
    const check = (env: NodeJS.ProcessEnv) => () => checkOtlpTls(otlpTlsFromEnv(env));
    expect(check({ OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE: join(dir, 'missing.crt') })).toThrow(
      /OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE .*missing\.crt cannot be read/,
    );
    expect(check({ OTEL_EXPORTER_OTLP_CERTIFICATE: key })).toThrow(
      /OTEL_EXPORTER_OTLP_CERTIFICATE .* holds no PEM certificate/,
    );
    expect(
      check({ OTEL_EXPORTER_OTLP_CLIENT_KEY: cert, OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: cert }),
    ).toThrow(/OTEL_EXPORTER_OTLP_CLIENT_KEY .* holds no PEM private key/);
    expect(check({ OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: cert })).toThrow(ConfigError);
    expect(check({ OTEL_EXPORTER_OTLP_CLIENT_KEY: key })).toThrow(
      /OTEL_EXPORTER_OTLP_CLIENT_KEY is set without its pair/,
    );
  });
});
