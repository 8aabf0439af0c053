import { silentLogger, type Logger } from '../infra/logger.js';

/** A logger keeping each info, warn and error line as JSON `{ message, ...fields }`. */
export function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const write = (message: string, fields?: Record<string, unknown>) => {
    lines.push(JSON.stringify({ message, ...fields }));
  };
  return { ...silentLogger, lines, info: write, warn: write, error: write };
}
