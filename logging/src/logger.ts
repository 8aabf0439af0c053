import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';
import { REDACT_PATHS, REDACTED } from './redaction.js';
import type { LogSettings } from './settings.js';

/** Fields of a line. Errors go under `err` (pino's error serializer: type, message, stack). */
export type LogFields = Record<string, unknown> & { err?: unknown };

/**
 * What the agent and the API log through: a message, then fields. Lines are JSON with `time`
 * (ISO 8601), `level` (its name), `msg`, the bindings of `child` (`component`, ...) and the fields.
 */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  fatal(msg: string, fields?: LogFields): void;
  /** A logger whose lines also carry `bindings`; a key given again (`component`) replaces the parent's. */
  child(bindings: LogFields): Logger;
}

/** A Logger over a pino instance, for what needs pino itself (pino-http). */
export interface PinoBackedLogger extends Logger {
  readonly pino: PinoLogger;
  child(bindings: LogFields): PinoBackedLogger;
}

/**
 * process.stderr, looked up at each line (so a test may capture it). Synchronous for files,
 * pipes and terminals on Linux, so no line is lost at exit.
 */
export const stderrDestination: DestinationStream = {
  write: (line: string) => process.stderr.write(line),
};

export interface LoggerOptions {
  /** Where lines go (default: stderr). */
  destination?: DestinationStream;
  /** Decides which debug lines are kept (tests). */
  random?: () => number;
}

const DEBUG = 20;

/** The pino options both processes share: field names, level labels, redaction, sampling. */
export function pinoOptions(settings: LogSettings, random: () => number = Math.random) {
  const sampled = settings.debugSample < 1;
  return {
    level: settings.level,
    base: undefined,
    messageKey: 'msg',
    errorKey: 'err',
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
    redact: { paths: [...REDACT_PATHS], censor: REDACTED },
    hooks: sampled
      ? {
          logMethod(
            this: PinoLogger,
            args: Parameters<PinoLogger['info']>,
            method: PinoLogger['info'],
            level: number,
          ) {
            if (level === DEBUG && random() >= settings.debugSample) return;
            method.apply(this, args);
          },
        }
      : {},
  };
}

export function createLogger(settings: LogSettings, options: LoggerOptions = {}): PinoBackedLogger {
  const destination = options.destination ?? stderrDestination;
  return wrap(pino(pinoOptions(settings, options.random), destination), {});
}

function wrap(
  logger: PinoLogger,
  bindings: LogFields,
  root: PinoLogger = logger,
): PinoBackedLogger {
  const at =
    (level: 'debug' | 'info' | 'warn' | 'error' | 'fatal') => (msg: string, fields?: LogFields) => {
      if (fields === undefined) logger[level](msg);
      else logger[level](fields, msg);
    };
  return {
    pino: logger,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    fatal: at('fatal'),
    // From the root with the merged bindings, so that a key never appears twice in a line.
    child: (more) => {
      const merged = { ...bindings, ...more };
      return wrap(root.child(merged), merged, root);
    },
  };
}

const noop = () => {};
/** Writes nothing (tests, library use). */
export const silentLogger: Logger = {
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  fatal: noop,
  child: () => silentLogger,
};
