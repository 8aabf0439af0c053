import { readFileSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import type { FilesystemStats, HostFiles } from './host-files.js';

export class LinuxHostFiles implements HostFiles {
  constructor(private readonly procRoot = '/proc') {}

  /**
   * Synchronous on purpose: the kernel generates /proc files in memory, so a blocking read
   * takes microseconds, while fs/promises' readFile costs an open, fstat, read loop and close
   * through the thread pool — most of the collectors' CPU in a profile of the agent.
   */
  async readProc(path: string): Promise<string> {
    return readFileSync(`${this.procRoot}/${path}`, 'utf8');
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
