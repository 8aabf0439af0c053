import { mkdirSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BatchStore, StoredBatch } from './batch-store.js';

/** The spool's directory under the agent's state directory. */
export const SPOOL_DIRECTORY_NAME = 'export-spool';

const SPOOL_FILE = /^(\d{16})\.json$/;
const PARTIAL_SUFFIX = '.partial';

function fileName(sequence: number): string {
  return `${String(sequence).padStart(16, '0')}.json`;
}

/**
 * CYBERCORP_BUFFER_SPOOL=file: one file per batch in `directory` (0700; files 0600, as they
 * hold the host's process names and owners), so buffered intervals survive an agent restart.
 * A file is written under a temporary name and renamed into place, so a crash mid-write
 * leaves no half batch under a batch's name.
 */
export class FileBatchStore implements BatchStore {
  readonly persistent = true;

  constructor(readonly directory: string) {
    mkdirSync(directory, { recursive: true, mode: 0o700 });
  }

  /** Synchronous, once at start: the buffer must know its contents before the first export. */
  list(): StoredBatch[] {
    const batches: StoredBatch[] = [];
    for (const name of readdirSync(this.directory)) {
      const path = join(this.directory, name);
      if (name.endsWith(PARTIAL_SUFFIX)) {
        unlinkSync(path); // an interrupted write
        continue;
      }
      const match = SPOOL_FILE.exec(name);
      if (!match) continue; // not ours: left alone
      batches.push({ sequence: Number(match[1]), sizeBytes: statSync(path).size });
    }
    return batches;
  }

  async write(sequence: number, bytes: Buffer): Promise<void> {
    const path = join(this.directory, fileName(sequence));
    const partial = `${path}${PARTIAL_SUFFIX}`;
    await writeFile(partial, bytes, { mode: 0o600 });
    await rename(partial, path);
  }

  read(sequence: number): Promise<Buffer> {
    return readFile(join(this.directory, fileName(sequence)));
  }

  async remove(sequence: number): Promise<void> {
    await rm(join(this.directory, fileName(sequence)), { force: true });
  }

  describe(sequence: number): string {
    return join(this.directory, fileName(sequence));
  }
}
