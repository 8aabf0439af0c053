// Command-line options of the benches: `--name N` as a number.

/** The number after `name` on the command line, or `fallback` when `name` is not given. */
export function option(name, fallback) {
  const at = process.argv.indexOf(name);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
}
