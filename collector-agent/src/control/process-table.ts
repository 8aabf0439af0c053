import { DarwinProcessTable } from './processes.darwin.js';
import { LinuxProcessTable } from './processes.linux.js';
import { Win32ProcessTable } from './processes.win32.js';
import type { ProcessTable } from './processes.js';

/**
 * The process table for this platform: /proc on Linux, tasklist on Windows, and ps on macOS and
 * the BSDs (which share ps's options).
 */
export function createProcessTable(platform: NodeJS.Platform = process.platform): ProcessTable {
  if (platform === 'linux') return new LinuxProcessTable();
  if (platform === 'win32') return new Win32ProcessTable();
  return new DarwinProcessTable();
}
