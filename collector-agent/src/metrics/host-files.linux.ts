import { statfs } from 'node:fs/promises';
import { ProcFileReader } from '../proc/proc-file-reader.js';
import type { FilesystemStats, HostFiles } from './host-files.js';

export class LinuxHostFiles implements HostFiles {
  private readonly files = new ProcFileReader();

  constructor(private readonly procRoot = '/proc') {}

  /**
   * Synchronous on purpose (see ProcFileReader): fs/promises' readFile was most of the
   * collectors' CPU in a profile of the agent.
   */
  async readProc(path: string): Promise<string> {
    return this.files.readToEnd(`${this.procRoot}/${path}`);
  }

  /** Asynchronous: a hung network filesystem must not block the event loop. */
  async statfs(mountpoint: string): Promise<FilesystemStats> {
    const stats = await statfs(mountpoint);
    return {
      blockSize: stats.bsize,
      blocks: stats.blocks,
      freeBlocks: stats.bfree,
      availableBlocks: stats.bavail,
    };
  }
}
