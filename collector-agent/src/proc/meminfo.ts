import { numberField, ProcParseError } from './parse-error.js';

/** Memory figures in bytes. */
export interface MemInfo {
  total: number;
  free: number;
  available: number;
  buffers: number;
  /** Page cache plus reclaimable slab: what the kernel gives back under pressure. */
  cached: number;
}

const FILE = '/proc/meminfo';

export function parseMemInfo(text: string): MemInfo {
  const kib = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^(\w+(?:\(\w+\))?):\s+(\d+)(?:\s+kB)?\s*$/.exec(line);
    if (match?.[1] && match[2]) kib.set(match[1], numberField(FILE, match[2], match[1]) * 1024);
  }
  const required = (key: string): number => {
    const value = kib.get(key);
    if (value === undefined) throw new ProcParseError(FILE, `${key} missing`);
    return value;
  };
  const free = required('MemFree');
  return {
    total: required('MemTotal'),
    free,
    // Kernels before 3.14 have no MemAvailable; free memory is the conservative stand-in.
    available: kib.get('MemAvailable') ?? free,
    buffers: required('Buffers'),
    cached: required('Cached') + (kib.get('SReclaimable') ?? 0),
  };
}
