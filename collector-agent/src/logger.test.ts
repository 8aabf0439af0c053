import { describe, expect, it } from 'vitest';
import { createLogger, logSettingsFromEnv } from './logger.js';

describe('the agent logger', () => {
  it('writes JSON lines with the field names the control API uses, filtered by level', () => {
    const lines: string[] = [];
    const log = createLogger(logSettingsFromEnv({ LOG_LEVEL: 'info' }), {
      destination: { write: (line) => lines.push(line) },
    }).child({ component: 'opamp' });
    log.debug('hidden');
    log.warn('connection ended', { err: new Error('ECONNREFUSED'), attempt: 7 });
    expect(lines).toHaveLength(1);
    expect(lines[0]?.endsWith('\n')).toBe(true);
    expect(JSON.parse(lines[0] as string)).toMatchObject({
      time: expect.any(String),
      level: 'warn',
      msg: 'connection ended',
      component: 'opamp',
      err: { type: 'Error', message: 'ECONNREFUSED' },
      attempt: 7,
    });
  });

  it('refuses an unknown LOG_LEVEL instead of guessing', () => {
    expect(logSettingsFromEnv({ LOG_LEVEL: 'debug' }).level).toBe('debug');
    expect(() => logSettingsFromEnv({ LOG_LEVEL: 'verbose' })).toThrow(/LOG_LEVEL must be one of/);
    expect(logSettingsFromEnv({}).level).toBe('debug');
  });
});
