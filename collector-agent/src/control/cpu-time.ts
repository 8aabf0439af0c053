/** `[[dd-]hh:]mm:ss[.cc]` → seconds: the CPU time column of ps and of tasklist. */
export function parseCpuTime(text: string): number {
  const [days, rest] = text.includes('-') ? text.split('-') : ['0', text];
  const parts = (rest ?? '0').split(':').map(Number).reverse();
  const [s = 0, m = 0, h = 0] = parts;
  return Number(days) * 86400 + h * 3600 + m * 60 + s;
}
