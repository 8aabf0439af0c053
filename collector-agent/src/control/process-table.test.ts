import { describe, expect, it } from 'vitest';
import { createProcessTable } from './process-table.js';
import { DarwinProcessTable } from './processes.darwin.js';
import { LinuxProcessTable } from './processes.linux.js';
import { Win32ProcessTable } from './processes.win32.js';

describe('createProcessTable', () => {
  it('reads /proc on Linux', () => {
    expect(createProcessTable('linux')).toBeInstanceOf(LinuxProcessTable);
  });

  it('runs tasklist on Windows and ps on macOS and the BSDs', () => {
    expect(createProcessTable('win32')).toBeInstanceOf(Win32ProcessTable);
    expect(createProcessTable('darwin')).toBeInstanceOf(DarwinProcessTable);
    expect(createProcessTable('freebsd')).toBeInstanceOf(DarwinProcessTable);
  });
});
