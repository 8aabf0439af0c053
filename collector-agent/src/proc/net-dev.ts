import { numberField, ProcParseError } from './parse-error.js';

/** Counters of one network interface since it came up. */
export interface InterfaceCounters {
  name: string;
  receiveBytes: number;
  receiveErrors: number;
  receiveDropped: number;
  transmitBytes: number;
  transmitErrors: number;
  transmitDropped: number;
}

const FILE = '/proc/net/dev';

/** /proc/net/dev: two header lines, then `name: 8 receive fields 8 transmit fields`. */
export function parseNetDev(text: string): InterfaceCounters[] {
  const result: InterfaceCounters[] = [];
  for (const line of text.split('\n').slice(2)) {
    if (line.trim() === '') continue;
    const colon = line.indexOf(':');
    if (colon < 0) throw new ProcParseError(FILE, `no "name:" in ${JSON.stringify(line)}`);
    const name = line.slice(0, colon).trim();
    const fields = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/);
    if (fields.length < 16) {
      throw new ProcParseError(FILE, `${name} has ${fields.length} fields, expected 16`);
    }
    const field = (i: number, what: string) => numberField(FILE, fields[i], `${name} ${what}`);
    result.push({
      name,
      receiveBytes: field(0, 'rx bytes'),
      receiveErrors: field(2, 'rx errs'),
      receiveDropped: field(3, 'rx drop'),
      transmitBytes: field(8, 'tx bytes'),
      transmitErrors: field(10, 'tx errs'),
      transmitDropped: field(11, 'tx drop'),
    });
  }
  return result;
}
