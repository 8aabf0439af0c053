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
      ALLOW_PLAINTEXT_HTTP: 'true',
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

describe('resolveConfig: TLS and plain HTTP', () => {
  const pair = { TLS_CERT_FILE: '/certs/server.crt', TLS_KEY_FILE: '/certs/server.key' };

  it('serves plain HTTP on loopback by default, TLS 1.3 and up with a certificate', () => {
    expect(resolveConfig({}, {})).toMatchObject({ tls: undefined, allowPlaintextHttp: false });
    expect(resolveConfig({}, { ...pair, HOST: '0.0.0.0' }).tls).toEqual({
      certFile: '/certs/server.crt',
      keyFile: '/certs/server.key',
      minVersion: 'TLSv1.3',
    });
    expect(resolveConfig({}, { ...pair, TLS_MIN_VERSION: 'TLSv1.2' }).tls?.minVersion).toBe(
      'TLSv1.2',
    );
    expect(
      resolveConfig({ tlsCertFile: '/a.crt', tlsKeyFile: '/a.key', tlsMinVersion: 'TLSv1.2' }, {})
        .tls,
    ).toEqual({ certFile: '/a.crt', keyFile: '/a.key', minVersion: 'TLSv1.2' });
  });

  it('needs both TLS files or neither, naming the missing one', () => {
    expect(() => resolveConfig({}, { TLS_CERT_FILE: '/c' })).toThrow(ConfigError);
    expect(() => resolveConfig({}, { TLS_CERT_FILE: '/c' })).toThrow(/TLS_KEY_FILE is missing/);
    expect(() => resolveConfig({}, { TLS_KEY_FILE: '/k' })).toThrow(/TLS_CERT_FILE is missing/);
  });

  it('refuses a TLS_MIN_VERSION other than TLSv1.2 and TLSv1.3', () => {
    for (const version of ['TLSv1.1', 'TLSv1', 'tls1.3', '1.3']) {
      expect(() => resolveConfig({}, { ...pair, TLS_MIN_VERSION: version }), version).toThrow(
        /TLS_MIN_VERSION must be TLSv1.3 or TLSv1.2/,
      );
    }
  });

  it('refuses plain HTTP on a HOST that is not loopback unless ALLOW_PLAINTEXT_HTTP=true', () => {
    for (const host of ['0.0.0.0', '::', '10.0.0.4', 'control-api', '128.0.0.1']) {
      expect(() => resolveConfig({}, { HOST: host }), host).toThrow(ConfigError);
      expect(() => resolveConfig({}, { HOST: host }), host).toThrow(
        /refusing plain HTTP on HOST .* not loopback: set TLS_CERT_FILE and TLS_KEY_FILE .* or ALLOW_PLAINTEXT_HTTP=true/,
      );
      expect(resolveConfig({}, { HOST: host, ALLOW_PLAINTEXT_HTTP: 'true' })).toMatchObject({
        tls: undefined,
        allowPlaintextHttp: true,
      });
    }
    for (const host of [
      '127.0.0.1',
      '127.0.0.9',
      'localhost',
      '::1',
      '[::1]',
      '::ffff:127.0.0.1',
    ]) {
      expect(resolveConfig({}, { HOST: host }).tls, host).toBeUndefined();
    }
    expect(() => resolveConfig({}, { HOST: '0.0.0.0', ALLOW_PLAINTEXT_HTTP: 'false' })).toThrow(
      ConfigError,
    );
    expect(() => resolveConfig({}, { ALLOW_PLAINTEXT_HTTP: 'yes' })).toThrow(
      /ALLOW_PLAINTEXT_HTTP must be true or false/,
    );
    expect(resolveConfig({ host: '0.0.0.0', allowPlaintextHttp: true }, {}).host).toBe('0.0.0.0');
  });
});

describe('resolveConfig: trusted proxies', () => {
  it('reads TRUSTED_PROXIES as comma-separated IPs and CIDRs, none by default', () => {
    expect(resolveConfig({}, {}).trustedProxies).toEqual([]);
    expect(
      resolveConfig({}, { TRUSTED_PROXIES: ' 127.0.0.2, 10.0.0.0/8,fd00::/8 ,::1,' })
        .trustedProxies,
    ).toEqual(['127.0.0.2', '10.0.0.0/8', 'fd00::/8', '::1']);
    expect(
      resolveConfig({ trustedProxies: ['192.0.2.1'] }, { TRUSTED_PROXIES: '::1' }),
    ).toMatchObject({ trustedProxies: ['192.0.2.1'] });
  });

  it('refuses an entry that is neither, naming it', () => {
    for (const bad of ['gateway', '10.0.0.0/40', '10.0.0.1,nope']) {
      expect(() => resolveConfig({}, { TRUSTED_PROXIES: bad }), bad).toThrow(ConfigError);
      expect(() => resolveConfig({}, { TRUSTED_PROXIES: bad }), bad).toThrow(/TRUSTED_PROXIES/);
    }
  });
});

describe('resolveConfig: INVENTORY_INTERVAL', () => {
  it('reads seconds, with or without a unit; the option wins; 60 s by default', () => {
    expect(resolveConfig({}, {}).inventoryIntervalSeconds).toBe(60);
    expect(resolveConfig({}, { INVENTORY_INTERVAL: '' }).inventoryIntervalSeconds).toBe(60);
    const cases: [string, number][] = [
      ['90', 90],
      ['30s', 30],
      ['5m', 300],
      [' 2 m ', 120],
      ['1440m', 86_400],
    ];
    for (const [raw, seconds] of cases) {
      expect(resolveConfig({}, { INVENTORY_INTERVAL: raw }).inventoryIntervalSeconds, raw).toBe(
        seconds,
      );
    }
    expect(
      resolveConfig({ inventoryIntervalSeconds: 15 }, { INVENTORY_INTERVAL: '5m' })
        .inventoryIntervalSeconds,
    ).toBe(15);
  });

  it('refuses another unit, a fraction or a value out of range, naming the variable', () => {
    for (const bad of ['5h', '1.5', 'soon', '0', '0s', '1441m', '86401', '-30s']) {
      expect(() => resolveConfig({}, { INVENTORY_INTERVAL: bad }), bad).toThrow(ConfigError);
      expect(() => resolveConfig({}, { INVENTORY_INTERVAL: bad }), bad).toThrow(
        new RegExp(`^INVENTORY_INTERVAL must be .* from 1 to 86400 .*, got ${bad}$`),
      );
    }
    expect(() => resolveConfig({ inventoryIntervalSeconds: 0.5 }, {})).toThrow(
      /INVENTORY_INTERVAL/,
    );
  });
});
