import { describe, expect, it } from 'vitest';

import { formatBytes, formatPercent, formatTime } from './format';

describe('format', () => {
  it('shows bytes in binary units with one decimal', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(900_000_000)).toBe('858.3 MiB');
    expect(formatBytes(5 * 1024 ** 5)).toBe('5120.0 TiB');
  });

  it('shows percentages with one decimal', () => {
    expect(formatPercent(41.25)).toBe('41.3 %');
  });

  it('shows a missing time as a dash and an unparsable one as it came', () => {
    expect(formatTime(null)).toBe('—');
    expect(formatTime('not a date')).toBe('not a date');
    expect(formatTime('2026-11-25T18:00:00Z')).toBe(
      new Date('2026-11-25T18:00:00Z').toLocaleString(),
    );
  });
});
