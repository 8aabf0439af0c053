import { describe, expect, it } from 'vitest';
import { logSettingsFromEnv } from '../logger.js';
import { otlpTlsFromEnv } from '../metrics/otlp-tls.js';
import { exportIntervalFromEnv, metricsExporterFromEnv } from '../metrics/telemetry.js';
import { buildResource } from '../resource.js';
import { bufferSettingsFromEnv } from './buffer-settings.js';
import {
  AGENT_ENVIRONMENT_VARIABLES,
  readEnvironment,
  resolveStateDir,
  validateControlUrl,
} from './env.js';

describe('agent environment', () => {
  it('reads the CyberCorp variables and treats blank as unset', () => {
    expect(
      readEnvironment({
        CYBERCORP_CONTROL_URL: 'ws://127.0.0.1:8080/v1/opamp',
        CYBERCORP_AGENT_TOKEN: '  ',
        CYBERCORP_AGENT_STATE_DIR: '/var/lib/agent',
      }),
    ).toEqual({
      controlUrl: 'ws://127.0.0.1:8080/v1/opamp',
      agentToken: undefined,
      stateDir: '/var/lib/agent',
      caFile: undefined,
      tlsPins: undefined,
      allowPlaintext: false,
    });
  });

  it('reads the TLS settings: CA file, pins in any RFC 7469 spelling, ALLOW_PLAINTEXT_HTTP', () => {
    const pin = 'W+go/X+O9XlFmycTVMIuT8Nn5kw2m1+TogXh6V58dfo=';
    const backup = '8s777PJ85nIdwBV8E++zeZR/pr/yfZA/YAPWBxcLbEc=';
    expect(
      readEnvironment({
        CYBERCORP_CA_FILE: '/etc/cybercorp/ca.crt',
        CYBERCORP_TLS_PIN_SHA256: `sha256/${pin}, pin-sha256="${backup}"`,
        ALLOW_PLAINTEXT_HTTP: 'TRUE',
      }),
    ).toMatchObject({
      caFile: '/etc/cybercorp/ca.crt',
      tlsPins: [pin, backup],
      allowPlaintext: true,
    });
    expect(() => readEnvironment({ CYBERCORP_TLS_PIN_SHA256: `${pin},deadbeef` })).toThrow(
      /CYBERCORP_TLS_PIN_SHA256: "deadbeef" is not a SHA-256 pin/,
    );
    expect(() => readEnvironment({ ALLOW_PLAINTEXT_HTTP: 'yes' })).toThrow(
      /ALLOW_PLAINTEXT_HTTP must be "true" or "false"/,
    );
  });

  it('resolves the state directory: env, then config, then XDG, then ~/.local/state', () => {
    expect(resolveStateDir('/env', '/config', {})).toBe('/env');
    expect(resolveStateDir(undefined, '/config', {})).toBe('/config');
    expect(resolveStateDir(undefined, undefined, { XDG_STATE_HOME: '/xdg' })).toBe(
      '/xdg/cybercorp-agent',
    );
    expect(resolveStateDir(undefined, undefined, { HOME: '/home/a' })).toBe(
      '/home/a/.local/state/cybercorp-agent',
    );
  });

  it('accepts only ws:// and wss:// control URLs', () => {
    expect(validateControlUrl('wss://cp.example/v1/opamp').host).toBe('cp.example');
    expect(() => validateControlUrl('http://cp.example/v1/opamp')).toThrow(/ws:\/\/ or wss:\/\//);
    expect(() => validateControlUrl('not a url')).toThrow(/CYBERCORP_CONTROL_URL/);
  });
});

describe('AGENT_ENVIRONMENT_VARIABLES', () => {
  it('names every variable the environment readers read', async () => {
    const read = new Set<string>();
    const recording = new Proxy<NodeJS.ProcessEnv>(
      {},
      {
        get: (_target, name) => {
          if (typeof name === 'string') read.add(name);
          return undefined;
        },
      },
    );
    readEnvironment(recording);
    resolveStateDir(undefined, undefined, recording);
    logSettingsFromEnv(recording);
    exportIntervalFromEnv(recording);
    metricsExporterFromEnv(recording);
    bufferSettingsFromEnv(recording);
    otlpTlsFromEnv(recording);
    await buildResource({
      instanceUid: 'uid',
      env: recording,
      serviceVersion: '0.0.0',
      hostname: () => 'host',
      machineIdPaths: [],
    });
    expect(read.size).toBeGreaterThan(8);
    const listed: readonly string[] = AGENT_ENVIRONMENT_VARIABLES;
    expect([...read].filter((name) => !listed.includes(name))).toEqual([]);
  });
});
