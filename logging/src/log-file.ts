import { chmodSync, statSync } from 'node:fs';
import type { DestinationStream } from 'pino';
import type { LogFileSettings } from './settings.js';

/** Readable by the owner and its group (a log shipper), never by other users. */
export const LOG_FILE_MODE = 0o640;

export interface LogFileStream extends DestinationStream {
  /** The file written now, e.g. /var/log/cybercorp/api.2025-06-01.1.log. */
  readonly file: string;
  close(): Promise<void>;
}

/**
 * A daily-rotated file (pino-roll), written synchronously in this thread: no worker thread, whose
 * start-up and idle cost the agent's CPU budget has no room for, and no line lost at exit.
 * pino-roll (and the date library it brings) loads only when a log file is configured.
 */
export async function openLogFile(settings: LogFileSettings): Promise<LogFileStream> {
  const { default: roll } = await import('pino-roll');
  const stream = await roll({
    file: settings.path,
    frequency: 'daily',
    dateFormat: 'yyyy-MM-dd',
    // Counted over the files on disk, so that restarts do not leave files behind.
    limit: { count: settings.count, removeOtherLogFiles: true },
    mkdir: true,
    mode: LOG_FILE_MODE,
    sync: true,
  });
  // The mode applies to files created now; one left world-readable by an earlier run is narrowed.
  const { mode } = statSync(stream.file);
  if ((mode & 0o007) !== 0) chmodSync(stream.file, mode & 0o770);
  return {
    get file() {
      return stream.file;
    },
    write: (line: string) => stream.write(line),
    close: () =>
      new Promise<void>((resolve) => {
        if (stream.destroyed) {
          resolve();
          return;
        }
        stream.once('close', () => resolve());
        stream.end();
      }),
  };
}
