/** /proc/<pid>/cmdline holds NUL-separated arguments, usually with a trailing NUL. */
export function parseCmdline(raw: string): string {
  let end = raw.length;
  while (end > 0 && raw.charCodeAt(end - 1) === 0) end--;
  return raw.slice(0, end).replaceAll('\0', ' ');
}
