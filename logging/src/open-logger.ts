import { pino } from 'pino';
import { openLogFile } from './log-file.js';
import {
  createLogger,
  stderrDestination,
  type LoggerOptions,
  type PinoBackedLogger,
} from './logger.js';
import type { LogSettings } from './settings.js';

export interface OpenLogger {
  logger: PinoBackedLogger;
  /** Closes the log file, if any (stderr stays open). */
  close(): Promise<void>;
}

/** The process logger: stderr, and the rotated LOG_FILE when one is configured. */
export async function openLogger(
  settings: LogSettings,
  options: LoggerOptions = {},
): Promise<OpenLogger> {
  const console = options.destination ?? stderrDestination;
  if (!settings.file) {
    return {
      logger: createLogger(settings, { ...options, destination: console }),
      close: async () => {},
    };
  }
  const file = await openLogFile(settings.file);
  // Every stream takes every line the logger lets through; the level is decided once, above.
  const destination = pino.multistream([
    { stream: console, level: 'debug' },
    { stream: file, level: 'debug' },
  ]);
  return { logger: createLogger(settings, { ...options, destination }), close: () => file.close() };
}
