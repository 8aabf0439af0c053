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
  let closed = false;
  return {
    get file() {
      return stream.file;
    },
    // A line logged after close (a second signal during exit) still goes to stderr, not here.
    write: (line: string) => {
      if (!closed) stream.write(line);
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (closed || stream.destroyed) {
          closed = true;
          resolve();
          return;
        }
        closed = true;
        stream.once('close', () => resolve());
        stream.end();
      }),
  };
}
