import { describe, expect, it } from 'vitest';
import { bufferSettingsFromEnv, DEFAULT_BUFFER_MAX_BYTES } from './buffer-settings.js';
import { ConfigError } from './config-error.js';

describe('bufferSettingsFromEnv', () => {
  it('defaults to 32 MiB in memory, and takes bytes and the file spool', () => {
    expect(bufferSettingsFromEnv({})).toEqual({ maxBytes: 32 * 1024 * 1024, spool: 'memory' });
    expect(DEFAULT_BUFFER_MAX_BYTES).toBe(33_554_432);
    expect(
      bufferSettingsFromEnv({
        CYBERCORP_BUFFER_MAX_BYTES: ' 4096 ',
        CYBERCORP_BUFFER_SPOOL: 'File',
      }),
    ).toEqual({ maxBytes: 4096, spool: 'file' });
    expect(bufferSettingsFromEnv({ CYBERCORP_BUFFER_MAX_BYTES: '0' }).maxBytes).toBe(0);
  });

  it('refuses what it cannot use, naming the variable', () => {
    for (const bad of ['-1', '1.5', '32MiB', '1e9']) {
      expect(() => bufferSettingsFromEnv({ CYBERCORP_BUFFER_MAX_BYTES: bad }), bad).toThrow(
        ConfigError,
      );
    }
    expect(() => bufferSettingsFromEnv({ CYBERCORP_BUFFER_SPOOL: 'disk' })).toThrow(
      /CYBERCORP_BUFFER_SPOOL must be "memory" or "file"/,
    );
  });
});
