import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { v7 as uuidv7, validate } from 'uuid';

export const INSTANCE_UID_FILE = 'instance-uid';

export class InstanceUidError extends Error {
  readonly code = 'invalid_instance_uid';
}

/**
 * The agent's OpAMP instance uid: a UUIDv7 generated on first start and kept in the state
 * directory, so the control plane sees the same agent across restarts. A corrupt file is an
 * error rather than a silent new identity.
 */
export async function loadOrCreateInstanceUid(
  stateDir: string,
  generate: () => string = uuidv7,
): Promise<string> {
  const path = join(stateDir, INSTANCE_UID_FILE);
  try {
    const stored = (await readFile(path, 'utf8')).trim();
    if (!validate(stored)) {
      throw new InstanceUidError(
        `${path} does not hold a UUID; remove it to let the agent create a new identity`,
      );
    }
    return stored.toLowerCase();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const uid = generate();
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${uid}\n`, { mode: 0o600 });
  await rename(temporary, path);
  return uid;
}
