/** A /proc file whose text does not have the layout the kernel documents. */
export class ProcParseError extends Error {
  readonly code = 'proc_parse_error';

  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(`cannot parse ${file}: ${detail}`);
    this.name = 'ProcParseError';
  }
}

/** Parses a decimal field, refusing anything that is not a finite number. */
export function numberField(file: string, text: string | undefined, what: string): number {
  const value = Number(text);
  if (text === undefined || text === '' || !Number.isFinite(value)) {
    throw new ProcParseError(file, `${what} is ${JSON.stringify(text)}, not a number`);
  }
  return value;
}
