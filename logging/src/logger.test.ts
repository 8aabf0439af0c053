import { describe, expect, it } from 'vitest';
import { createLogger, silentLogger } from './logger.js';
import { REDACT_PATHS } from './redaction.js';
import type { LogSettings } from './settings.js';

function capture(settings: Partial<LogSettings> = {}, random?: () => number) {
  const lines: string[] = [];
  const logger = createLogger(
    { level: 'info', debugSample: 1, ...settings },
    { destination: { write: (line) => lines.push(line) }, random },
  );
  const records = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, lines, records };
}

describe('createLogger', () => {
  it('writes one JSON line per call with time, level name, msg, bindings, fields and err', () => {
    const { logger, lines, records } = capture();
    const failure = new Error('ECONNREFUSED');
    logger.child({ component: 'opamp' }).warn('connection ended', { err: failure, attempt: 7 });
    expect(lines).toHaveLength(1);
    expect(lines[0]?.endsWith('\n')).toBe(true);
    const [record] = records();
    expect(record).toEqual({
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      level: 'warn',
      msg: 'connection ended',
      component: 'opamp',
      attempt: 7,
      err: { type: 'Error', message: 'ECONNREFUSED', stack: failure.stack },
    });
  });

  it('writes nothing below its level, and every level from it up', () => {
    const { logger, records } = capture({ level: 'warn' });
    logger.debug('d');
    logger.info('i');
    logger.warn('w');
    logger.error('e');
    logger.fatal('f');
    expect(records().map((r) => r.level)).toEqual(['warn', 'error', 'fatal']);
  });

  it('lets a child replace a binding of its parent instead of repeating the key', () => {
    const { logger, lines, records } = capture();
    logger.child({ component: 'agent', host: 'h1' }).child({ component: 'opamp' }).info('up');
    expect(lines[0]?.match(/"component"/g)).toHaveLength(1);
    expect(records()[0]).toMatchObject({ component: 'opamp', host: 'h1' });
  });

  it('keeps the share of debug lines it is told to, and every other line', () => {
    const draws = [0.2, 0.7, 0.4, 0.9];
    const { logger, records } = capture({ level: 'debug', debugSample: 0.5 }, () => draws.shift()!);
    for (const n of [1, 2, 3, 4]) logger.debug(`debug ${n}`);
    for (const n of [1, 2]) logger.info(`info ${n}`);
    expect(records().map((r) => r.msg)).toEqual(['debug 1', 'debug 3', 'info 1', 'info 2']);
    expect(draws).toEqual([]);
  });

  it('writes every debug line at a sample of 1', () => {
    const { logger, records } = capture({ level: 'debug', debugSample: 1 }, () => 0.999);
    logger.debug('one');
    logger.debug('two');
    expect(records()).toHaveLength(2);
  });

  it('silentLogger and level silent write nothing', () => {
    const { logger, lines } = capture({ level: 'silent' });
    logger.fatal('nothing');
    silentLogger.child({ component: 'x' }).error('nothing');
    expect(lines).toEqual([]);
  });
});

describe('redaction', () => {
  const secret = 'ccs_3xAmpleSecretValue';

  it.each([
    ['password', { password: secret }],
    ['a refresh token', { refreshToken: secret }],
    ['an access token', { accessToken: secret }],
    ['a token', { token: secret }],
    ['an agent token', { agentToken: secret }],
    ['the agent token variable', { env: { CYBERCORP_AGENT_TOKEN: secret } }],
    ['the admin password variable', { CYBERCORP_ADMIN_PASSWORD: secret }],
    ['a database URL', { databaseUrl: `postgres://u:${secret}@db/x` }],
    ['a password one object down', { body: { password: secret } }],
    ['an authorization header', { req: { headers: { authorization: `Bearer ${secret}` } } }],
    ['a cookie header', { req: { headers: { cookie: `session=${secret}` } } }],
    ['a set-cookie response header', { res: { headers: { 'set-cookie': `s=${secret}` } } }],
    ['plain headers', { headers: { authorization: `Bearer ${secret}` } }],
  ])('keeps %s out of the line', (_what, fields) => {
    const { logger, lines } = capture();
    logger.info('request', fields);
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain(secret);
    expect(lines[0]).toContain('[redacted]');
  });

  it('keeps secrets out of child bindings and leaves other fields alone', () => {
    const { logger, lines, records } = capture();
    logger.child({ token: secret }).info('bound', { user: 'alice' });
    expect(lines[0]).not.toContain(secret);
    expect(records()[0]).toMatchObject({ user: 'alice' });
  });

  it('covers every secret key at the top and one level down', () => {
    for (const key of ['password', 'refreshToken', 'accessToken', 'token', 'CYBERCORP_AGENT_TOKEN'])
      expect(REDACT_PATHS).toEqual(expect.arrayContaining([key, `*.${key}`]));
  });
});
