import { describe, expect, it } from 'vitest';
import { ConfigError, resolveConfig } from './config.js';

describe('resolveConfig', () => {
  it('uses the documented defaults', () => {
    expect(resolveConfig({}, {})).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      dataDir: './.data',
      databaseUrl: undefined,
      redisUrl: undefined,
      adminUser: 'admin',
      adminPassword: undefined,
      heartbeatSeconds: 30,
      commandTimeoutMs: 5000,
      opampMessagesPerMinute: 1000,
      opampMaxConnections: 10_000,
      opampMaxPendingUpgrades: 256,
    });
  });

  it('reads the OpAMP limits from the environment', () => {
    const env = {
      OPAMP_MESSAGES_PER_MINUTE: '60',
      OPAMP_MAX_CONNECTIONS: '50',
      OPAMP_MAX_PENDING_UPGRADES: '8',
    };
    expect(resolveConfig({}, env)).toMatchObject({
      opampMessagesPerMinute: 60,
      opampMaxConnections: 50,
      opampMaxPendingUpgrades: 8,
    });
    expect(() => resolveConfig({}, { OPAMP_MAX_CONNECTIONS: '0' })).toThrow(ConfigError);
  });

  it('reads the environment and lets options override it', () => {
    const env = {
      PORT: '9000',
      HOST: '0.0.0.0',
      DATABASE_URL: 'postgres://db',
      REDIS_URL: 'redis://r',
    };
    expect(resolveConfig({}, env)).toMatchObject({
      port: 9000,
      host: '0.0.0.0',
      redisUrl: 'redis://r',
    });
    expect(resolveConfig({ port: 0, databaseUrl: 'postgres://other' }, env)).toMatchObject({
      port: 0,
      databaseUrl: 'postgres://other',
    });
  });

  it('refuses a port that is not a number', () => {
    expect(() => resolveConfig({}, { PORT: 'http' })).toThrow(ConfigError);
  });
});
