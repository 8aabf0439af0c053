/** Space figures of one mounted filesystem, as statfs(2) reports them. */
export interface FilesystemStats {
  blockSize: number;
  blocks: number;
  /** Free blocks, including those reserved for root. */
  freeBlocks: number;
  /** Free blocks an unprivileged user may use. */
  availableBlocks: number;
}

/**
 * The only I/O the host collectors do: reading kernel text files and asking for filesystem
 * space. Collectors take it injected so their tests run on literal fixtures.
 */
export interface HostFiles {
  /** Text of a file below the proc root, e.g. `stat` or `net/dev`. */
  readProc(path: string): Promise<string>;
  statfs(mountpoint: string): Promise<FilesystemStats>;
}
