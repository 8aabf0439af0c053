import { describe, expect, it } from 'vitest';
import { logSettingsFromEnv } from './settings.js';

describe('logSettingsFromEnv', () => {
  it('without LOG_LEVEL: info and up plus 1 % of the debug lines, no file', () => {
    expect(logSettingsFromEnv({})).toEqual({ level: 'debug', debugSample: 0.01 });
  });

  it('LOG_LEVEL=debug set to troubleshoot keeps every debug line', () => {
    expect(logSettingsFromEnv({ LOG_LEVEL: 'debug' })).toEqual({ level: 'debug', debugSample: 1 });
    expect(logSettingsFromEnv({ LOG_LEVEL: 'debug', LOG_DEBUG_SAMPLE: '0.25' })).toEqual({
      level: 'debug',
      debugSample: 0.25,
    });
  });

  it('an explicit level is a plain threshold', () => {
    expect(logSettingsFromEnv({ LOG_LEVEL: 'warn' }).level).toBe('warn');
    expect(logSettingsFromEnv({ LOG_LEVEL: 'info' }).level).toBe('info');
    expect(logSettingsFromEnv({ LOG_LEVEL: 'fatal' }, 'silent').level).toBe('silent');
  });

  it('reads CYBERCORP_LOG_LEVEL, the former name, only without LOG_LEVEL', () => {
    expect(logSettingsFromEnv({ CYBERCORP_LOG_LEVEL: 'error' }).level).toBe('error');
    expect(logSettingsFromEnv({ CYBERCORP_LOG_LEVEL: 'error', LOG_LEVEL: 'warn' }).level).toBe(
      'warn',
    );
  });

  it('LOG_FILE with 30 rotated files kept unless LOG_FILE_COUNT says otherwise', () => {
    expect(logSettingsFromEnv({ LOG_FILE: '/var/log/x/api.log' }).file).toEqual({
      path: '/var/log/x/api.log',
      count: 30,
    });
    expect(logSettingsFromEnv({ LOG_FILE: 'a.log', LOG_FILE_COUNT: '7' }).file?.count).toBe(7);
  });

  it.each([
    [{ LOG_LEVEL: 'verbose' }, /LOG_LEVEL must be one of debug, info, warn, error, fatal, silent/],
    [{ CYBERCORP_LOG_LEVEL: 'trace' }, /CYBERCORP_LOG_LEVEL must be one of/],
    [{ LOG_DEBUG_SAMPLE: '2' }, /LOG_DEBUG_SAMPLE must be a number from 0 to 1/],
    [{ LOG_DEBUG_SAMPLE: 'half' }, /LOG_DEBUG_SAMPLE/],
    [{ LOG_FILE: 'a.log', LOG_FILE_COUNT: '0' }, /LOG_FILE_COUNT must be an integer/],
    [{ LOG_FILE_COUNT: '1.5' }, /LOG_FILE_COUNT/],
  ])('refuses %o, naming the variable', (env, message) => {
    expect(() => logSettingsFromEnv(env)).toThrow(message);
  });
});
