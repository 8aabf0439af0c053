import { LinuxProcessTable } from './processes.linux.js';
import { NativeProcessTable } from './processes.native.js';
import type { ProcessTable } from './processes.js';

/** The process table for this platform: /proc on Linux, the platform's tools elsewhere. */
export function createProcessTable(platform: NodeJS.Platform = process.platform): ProcessTable {
  return platform === 'linux' ? new LinuxProcessTable() : new NativeProcessTable(platform);
}
