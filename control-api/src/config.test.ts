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
      rateLimitPerMinute: 100,
      corsOrigins: [],
      opampMessagesPerMinute: 1000,
      opampMaxConnections: 10_000,
      opampMaxPendingUpgrades: 256,
    });
  });

  it('reads the rate limit and the CORS allow-list', () => {
    const env = {
      RATE_LIMIT_PER_MINUTE: '0',
      CORS_ORIGINS: 'https://grafana.example.com, http://localhost:3000,',
    };
    expect(resolveConfig({}, env)).toMatchObject({
      rateLimitPerMinute: 0,
      corsOrigins: ['https://grafana.example.com', 'http://localhost:3000'],
    });
    expect(resolveConfig({ rateLimitPerMinute: 5000, corsOrigins: [] }, env)).toMatchObject({
      rateLimitPerMinute: 5000,
      corsOrigins: [],
    });
    for (const bad of [{ RATE_LIMIT_PER_MINUTE: '-1' }, { RATE_LIMIT_PER_MINUTE: 'lots' }]) {
      expect(() => resolveConfig({}, bad)).toThrow(ConfigError);
    }
    for (const origin of ['*', 'grafana.example.com', 'https://g.example.com/path', 'ftp://x']) {
      expect(() => resolveConfig({}, { CORS_ORIGINS: origin }), origin).toThrow(ConfigError);
    }
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

  it('takes a DATABASE_URL with several hosts, and refuses one it cannot honour', () => {
    const url = 'postgres://u:p@db-1:5432,db-2:5432/cybercorp?target_session_attrs=read-write';
    expect(resolveConfig({}, { DATABASE_URL: url }).databaseUrl).toBe(url);
    expect(() =>
      resolveConfig({}, { DATABASE_URL: 'postgres://a,b/db?target_session_attrs=standby' }),
    ).toThrow(ConfigError);
  });

  it('refuses a port that is not a number', () => {
    expect(() => resolveConfig({}, { PORT: 'http' })).toThrow(ConfigError);
  });
});

describe('resolveConfig: logging', () => {
  it('reads LOG_LEVEL, LOG_DEBUG_SAMPLE and LOG_FILE; the logLevel option wins', () => {
    const env = { LOG_LEVEL: 'debug', LOG_DEBUG_SAMPLE: '0.5', LOG_FILE: '/var/log/api.log' };
    expect(resolveConfig({}, env).log).toEqual({
      level: 'debug',
      debugSample: 0.5,
      file: { path: '/var/log/api.log', count: 30 },
    });
    expect(resolveConfig({ logLevel: 'silent' }, env).log.level).toBe('silent');
    expect(resolveConfig({}, {}).log).toEqual({ level: 'debug', debugSample: 0.01 });
  });

  it('refuses an unknown LOG_LEVEL with a ConfigError naming it', () => {
    expect(() => resolveConfig({}, { LOG_LEVEL: 'verbose' })).toThrow(ConfigError);
    expect(() => resolveConfig({}, { LOG_LEVEL: 'verbose' })).toThrow(/LOG_LEVEL/);
  });
});
