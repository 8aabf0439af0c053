import { ProcParseError } from './parse-error.js';

export interface Mount {
  device: string;
  mountpoint: string;
  type: string;
  readOnly: boolean;
}

const FILE = '/proc/self/mounts';

/** The kernel writes space, tab, newline and backslash in paths as three-digit octal escapes. */
function unescapeOctal(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) =>
    String.fromCharCode(parseInt(octal, 8)),
  );
}

/** /proc/self/mounts (fstab layout): device, mountpoint, type, options, dump, pass. */
export function parseMounts(text: string): Mount[] {
  const result: Mount[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const fields = line.trim().split(/\s+/);
    const [device, mountpoint, type, options] = fields;
    if (!device || !mountpoint || !type || !options) {
      throw new ProcParseError(FILE, `expected ≥ 4 fields in ${JSON.stringify(line)}`);
    }
    result.push({
      device: unescapeOctal(device),
      mountpoint: unescapeOctal(mountpoint),
      type,
      readOnly: options.split(',').includes('ro'),
    });
  }
  return result;
}
