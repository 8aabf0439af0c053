import { closeSync, openSync, readSync } from 'node:fs';

/** A process that exits while we read it is not an error: it is simply no longer listed. */
export function vanished(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ESRCH';
}

/**
 * Reads kernel and system text files whole into one buffer reused from read to read (it grows
 * when a file does not fit). Reads are synchronous on purpose: /proc files are generated in
 * memory by the kernel, so a blocking read costs a few microseconds, while a promise per file
 * (or fs/promises' open, fstat, read loop and close through the thread pool) costs more than
 * the read itself (see bench/process-list).
 */
export class ProcFileReader {
  private bytes = Buffer.allocUnsafe(16 * 1024);

  /** The shared buffer, for reads through descriptors held elsewhere (OpenStatFiles). */
  get buffer(): Buffer {
    return this.bytes;
  }

  /**
   * A file of one process (or a regular file); undefined when the process has gone. A read
   * that leaves room in the buffer has read everything: the kernel hands such a file over in
   * one read when the buffer holds it (procps' file2str stops there too), which spares the
   * second, empty read on every process of a scan.
   */
  readProcessFile(path: string): string | undefined {
    return this.read(path, true);
  }

  /**
   * A file read up to end of file; throws when it cannot be read. For the seq_file listings
   * (/proc/self/mounts, /proc/net/dev, /proc/diskstats …), which the kernel hands over at most
   * a page per read however big the buffer, so a short read does not mean the end there.
   */
  readToEnd(path: string): string {
    return this.read(path, false) as string;
  }

  private read(path: string, stopAtShortRead: boolean): string | undefined {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (error) {
      if (stopAtShortRead && vanished(error)) return undefined;
      throw error;
    }
    try {
      let length = 0;
      for (;;) {
        if (length === this.bytes.length) {
          const bigger = Buffer.allocUnsafe(this.bytes.length * 2);
          this.bytes.copy(bigger);
          this.bytes = bigger;
        }
        const room = this.bytes.length - length;
        const n = readSync(fd, this.bytes, length, room, null);
        length += n;
        if (n === 0 || (stopAtShortRead && n < room)) break;
      }
      return this.bytes.toString('utf8', 0, length);
    } catch (error) {
      if (stopAtShortRead && vanished(error)) return undefined;
      throw error;
    } finally {
      closeSync(fd);
    }
  }
}
