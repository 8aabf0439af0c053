import { numberField } from './parse-error.js';

/** /proc/uptime: seconds since boot, then idle seconds summed over CPUs. */
export function parseUptime(text: string): number {
  return numberField('/proc/uptime', text.trim().split(/\s+/)[0], 'uptime');
}
