import { ConfigError } from './config-error.js';

/** CYBERCORP_BUFFER_MAX_BYTES unset: 32 MiB of encoded batches. */
export const DEFAULT_BUFFER_MAX_BYTES = 32 * 1024 * 1024;

/** Where the offline buffer keeps the batches the Collector has not taken yet. */
export type BufferSpool = 'memory' | 'file';

export interface BufferSettings {
  /** Bound on the encoded size of all held batches; 0 keeps nothing (every failed batch dropped). */
  maxBytes: number;
  /** `file`: one 0600 file per batch under the state directory, kept across restarts. */
  spool: BufferSpool;
}

/** The offline buffer's settings from CYBERCORP_BUFFER_MAX_BYTES and CYBERCORP_BUFFER_SPOOL. */
export function bufferSettingsFromEnv(env: NodeJS.ProcessEnv): BufferSettings {
  const rawBytes = env.CYBERCORP_BUFFER_MAX_BYTES?.trim();
  let maxBytes = DEFAULT_BUFFER_MAX_BYTES;
  if (rawBytes) {
    maxBytes = Number(rawBytes);
    if (!/^\d+$/.test(rawBytes) || !Number.isSafeInteger(maxBytes)) {
      throw new ConfigError(
        `CYBERCORP_BUFFER_MAX_BYTES must be a whole number of bytes (0 or more), got "${rawBytes}"`,
      );
    }
  }
  const rawSpool = env.CYBERCORP_BUFFER_SPOOL?.trim().toLowerCase();
  if (rawSpool && rawSpool !== 'memory' && rawSpool !== 'file') {
    throw new ConfigError(`CYBERCORP_BUFFER_SPOOL must be "memory" or "file", got "${rawSpool}"`);
  }
  return { maxBytes, spool: rawSpool === 'file' ? 'file' : 'memory' };
}
