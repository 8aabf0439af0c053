import { closeSync, openSync, readSync } from 'node:fs';
import { vanished } from './proc-file-reader.js';

/**
 * /proc/<pid>/stat files held open from one scan to the next. The kernel renders the file anew on
 * every read from offset 0, so a scan reads each process with one pread instead of an open (a
 * path walk through procfs), a read and a close: the open and close were a third of the process
 * table's CPU in bench/agent-overhead. A descriptor belongs to the process it was opened for:
 * once that process has exited, the read fails with ESRCH even if its pid has been reused, and
 * the file is opened again. Files of pids a scan no longer lists are closed after it, and at
 * most `maxOpen` are held, so a host with many processes reads the rest the plain way.
 */
export class OpenStatFiles {
  private descriptors = new Map<number, number>();

  constructor(
    private readonly procRoot: string,
    private readonly maxOpen = 512,
  ) {}

  get openCount(): number {
    return this.descriptors.size;
  }

  /**
   * Reads the stat file of `pid` into `buffer` (which holds any stat line whole) and returns its
   * text; undefined when the process has gone.
   */
  read(pid: number, buffer: Buffer): string | undefined {
    const held = this.descriptors.get(pid);
    if (held !== undefined) {
      const text = this.readAt(held, buffer);
      if (text !== undefined) return text;
      // That process has exited; a new one may carry its pid.
      this.descriptors.delete(pid);
      closeSync(held);
    }
    let fd: number;
    try {
      fd = openSync(`${this.procRoot}/${pid}/stat`, 'r');
    } catch (error) {
      if (vanished(error)) return undefined;
      throw error;
    }
    const text = this.readAt(fd, buffer);
    if (text !== undefined && this.descriptors.size < this.maxOpen) this.descriptors.set(pid, fd);
    else closeSync(fd);
    return text;
  }

  /** Closes the files of every pid not in `listed`: those processes have exited. */
  keepOnly(listed: ReadonlySet<number>): void {
    for (const [pid, fd] of this.descriptors) {
      if (listed.has(pid)) continue;
      this.descriptors.delete(pid);
      closeSync(fd);
    }
  }

  closeAll(): void {
    this.keepOnly(new Set());
  }

  private readAt(fd: number, buffer: Buffer): string | undefined {
    try {
      const length = readSync(fd, buffer, 0, buffer.length, 0);
      return buffer.toString('utf8', 0, length);
    } catch (error) {
      if (vanished(error)) return undefined;
      throw error;
    }
  }
}
