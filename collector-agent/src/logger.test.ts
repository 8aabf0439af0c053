import { describe, expect, it } from 'vitest';
import { createLogger, parseLogLevel } from './logger.js';

describe('logger', () => {
  it('writes one JSON object per line, filtered by level, with child fields', () => {
    const lines: string[] = [];
    const log = createLogger('info', (line) => lines.push(line)).child({ component: 'opamp' });
    log.debug('hidden');
    log.warn('connection ended', { error: new Error('ECONNREFUSED'), sequence: 7n });
    expect(lines).toHaveLength(1);
    expect(lines[0]?.endsWith('\n')).toBe(true);
    expect(JSON.parse(lines[0] as string)).toMatchObject({
      level: 'warn',
      msg: 'connection ended',
      component: 'opamp',
      error: 'Error: ECONNREFUSED',
      sequence: '7',
    });
  });

  it('falls back to info for unknown levels', () => {
    expect(parseLogLevel('debug')).toBe('debug');
    expect(parseLogLevel('verbose')).toBe('info');
    expect(parseLogLevel(undefined)).toBe('info');
  });
});
