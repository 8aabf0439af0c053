import { numberField } from './parse-error.js';

export interface LoadAverage {
  one: number;
  five: number;
  fifteen: number;
}

const FILE = '/proc/loadavg';

/** /proc/loadavg: `1m 5m 15m running/total lastpid`. */
export function parseLoadAverage(text: string): LoadAverage {
  const [one, five, fifteen] = text.trim().split(/\s+/);
  return {
    one: numberField(FILE, one, '1m load'),
    five: numberField(FILE, five, '5m load'),
    fifteen: numberField(FILE, fifteen, '15m load'),
  };
}
