import { createHash, randomBytes } from 'node:crypto';
import type { Stats } from 'node:fs';
import { chmod, link, mkdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Clock } from '../infra/clock.js';
import type { Logger } from '../infra/logger.js';

/**
 * HS256 keys for access tokens, kept in a file only the API's account can read (0600), never in
 * the database: whoever can read the database must not be able to mint tokens. Every instance
 * of a deployment reads the same file. The file is JSON, `{"keys":[{kid, secret, createdAt,
 * retiredAt?}]}`; the newest key that is not retired signs, and a retired key keeps verifying
 * until the tokens it signed have expired. A file holding a bare secret (e.g. a mounted
 * Kubernetes secret) is one key whose `kid` is derived from it.
 */
export interface KeyRing {
  signingKey(): Promise<{ kid: string; secret: Uint8Array }>;
  /** The key for a token's `kid`, while tokens signed with it may still be valid. */
  verificationKey(kid: string): Promise<Uint8Array | undefined>;
}

export interface StoredKey {
  kid: string;
  secret: Uint8Array;
  createdAt: number;
  retiredAt?: number;
}

/** The file's name under the data directory when CYBERCORP_JWT_SECRET_FILE is not set. */
export const JWT_KEY_FILE_NAME = 'jwt-keys.json';
/** The setting that held the only signing secret before keys moved out of the database. */
export const LEGACY_JWT_SECRET_SETTING = 'jwt_hs256_secret';

const MIN_SECRET_BYTES = 32;
/**
 * Slack on a retired key's last day: another instance may sign with it until it rereads the
 * file, and clocks differ a little.
 */
const RETIRED_KEY_GRACE_MS = 60_000;
/** How often the file is looked at again (a rotation by `rotate-keys` or another instance). */
const RELOAD_INTERVAL_MS = 1000;
/** Retired keys older than this are dropped from the file at the next rotation. */
const RETIRED_KEY_KEPT_MS = 24 * 60 * 60 * 1000;

export class KeyFileError extends Error {}

function newKey(now: number): StoredKey {
  return { kid: randomBytes(9).toString('base64url'), secret: randomBytes(32), createdAt: now };
}

export function parseKeyFile(text: string, source: string): StoredKey[] {
  const trimmed = text.trim();
  if (!trimmed.startsWith('{')) {
    const secret = Buffer.from(trimmed, 'utf8');
    if (secret.length < MIN_SECRET_BYTES) {
      throw new KeyFileError(`${source}: a bare secret needs at least ${MIN_SECRET_BYTES} bytes`);
    }
    const kid = createHash('sha256').update(secret).digest('base64url').slice(0, 12);
    return [{ kid, secret, createdAt: 0 }];
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch {
    throw new KeyFileError(`${source}: not valid JSON`);
  }
  const entries = (parsed as { keys?: unknown }).keys;
  if (!Array.isArray(entries) || entries.length === 0) {
    throw new KeyFileError(`${source}: "keys" must be a non-empty array`);
  }
  return entries.map((entry: unknown, i) => {
    const e = entry as Record<string, unknown>;
    const secret = typeof e.secret === 'string' ? Buffer.from(e.secret, 'base64url') : undefined;
    const createdAt = typeof e.createdAt === 'string' ? Date.parse(e.createdAt) : NaN;
    const retiredAt = typeof e.retiredAt === 'string' ? Date.parse(e.retiredAt) : undefined;
    if (
      typeof e.kid !== 'string' ||
      e.kid === '' ||
      !secret ||
      secret.length < MIN_SECRET_BYTES ||
      Number.isNaN(createdAt) ||
      (retiredAt !== undefined && Number.isNaN(retiredAt))
    ) {
      throw new KeyFileError(`${source}: key ${i} needs kid, a 32-byte secret and dates`);
    }
    return { kid: e.kid, secret, createdAt, ...(retiredAt === undefined ? {} : { retiredAt }) };
  });
}

export function serializeKeyFile(keys: readonly StoredKey[]): string {
  const entries = keys.map((k) => ({
    kid: k.kid,
    secret: Buffer.from(k.secret).toString('base64url'),
    createdAt: new Date(k.createdAt).toISOString(),
    ...(k.retiredAt === undefined ? {} : { retiredAt: new Date(k.retiredAt).toISOString() }),
  }));
  return `${JSON.stringify({ keys: entries }, null, 2)}\n`;
}

/** What tells a changed file from the one loaded, without reading it. */
const versionOf = (info: Stats) => `${info.mtimeMs}:${info.size}:${info.ino}`;

const temporaryNameOf = (file: string) =>
  `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;

const exists = (file: string): Promise<boolean> =>
  stat(file).then(
    () => true,
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return false;
      throw error;
    },
  );

/** Creates the file with `keys` unless it exists; answers whether this call created it. */
async function createExclusively(file: string, keys: readonly StoredKey[]): Promise<boolean> {
  // An existing file is only read: it may sit on a read-only mount (a Kubernetes Secret), where
  // the temporary file below cannot be written.
  if (await exists(file)) return false;
  await mkdir(path.dirname(file), { recursive: true });
  const temporary = temporaryNameOf(file);
  await writeFile(temporary, serializeKeyFile(keys), { mode: 0o600 });
  try {
    // link() fails if the file exists: of two instances starting at once, one key set wins.
    await link(temporary, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await unlink(temporary).catch(() => undefined);
  }
}

async function replace(file: string, keys: readonly StoredKey[]): Promise<void> {
  const temporary = temporaryNameOf(file);
  await writeFile(temporary, serializeKeyFile(keys), { mode: 0o600 });
  await rename(temporary, file);
}

/** The key that signs: the newest one not retired. */
function activeKey(keys: readonly StoredKey[]): StoredKey | undefined {
  return keys
    .filter((k) => k.retiredAt === undefined)
    .reduce<StoredKey | undefined>(
      (newest, k) => (!newest || k.createdAt >= newest.createdAt ? k : newest),
      undefined,
    );
}

/** Whether tokens signed with `key` may still be valid at `now`. */
function verifies(key: StoredKey, now: number, maxTokenLifetimeSeconds: number): boolean {
  if (key.retiredAt === undefined) return true;
  return now < key.retiredAt + maxTokenLifetimeSeconds * 1000 + RETIRED_KEY_GRACE_MS;
}

/**
 * `cybercorp-control-api rotate-keys`: a new key signs from now on; the previous one is retired
 * and keeps verifying the tokens it signed until they expire. Creates the file if missing.
 */
export async function rotateKeyFile(
  file: string,
  now = Date.now(),
): Promise<{ kid: string; retired: string[] }> {
  const existing = await readFile(file, 'utf8').then(
    (text) => parseKeyFile(text, file),
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [];
      throw error;
    },
  );
  const retired: string[] = [];
  const kept = existing
    .map((k) => {
      if (k.retiredAt !== undefined) return k;
      retired.push(k.kid);
      return { ...k, retiredAt: now };
    })
    .filter((k) => now - (k.retiredAt ?? now) <= RETIRED_KEY_KEPT_MS);
  const fresh = newKey(now);
  await mkdir(path.dirname(file), { recursive: true });
  await replace(file, [...kept, fresh]);
  return { kid: fresh.kid, retired };
}

/** The key file of a configuration: the given one, or the data directory's. */
export function keyFileOf(config: { jwtSecretFile?: string; dataDir: string }): string {
  return path.resolve(config.jwtSecretFile ?? path.join(config.dataDir, JWT_KEY_FILE_NAME));
}

/** A key ring read from a file, reread when the file changes. */
export class FileKeyRing implements KeyRing {
  private keys: readonly StoredKey[];
  private version: string;
  private checkedAt: number;

  private constructor(
    private readonly file: string,
    loaded: { keys: readonly StoredKey[]; version: string },
    private readonly clock: Clock,
    private readonly maxTokenLifetimeSeconds: number,
    private readonly logger: Logger,
  ) {
    this.keys = loaded.keys;
    this.version = loaded.version;
    this.checkedAt = clock.now();
  }

  static async open(options: {
    file: string;
    clock: Clock;
    maxTokenLifetimeSeconds: number;
    logger: Logger;
  }): Promise<FileKeyRing> {
    const loaded = await FileKeyRing.read(options.file);
    if (!activeKey(loaded.keys)) {
      throw new KeyFileError(`${options.file}: every key is retired; run rotate-keys`);
    }
    return new FileKeyRing(
      options.file,
      loaded,
      options.clock,
      options.maxTokenLifetimeSeconds,
      options.logger,
    );
  }

  private static async read(file: string) {
    const info = await stat(file);
    const keys = parseKeyFile(await readFile(file, 'utf8'), file);
    return { keys, version: versionOf(info) };
  }

  async signingKey(): Promise<{ kid: string; secret: Uint8Array }> {
    await this.reloadIfChanged();
    const key = activeKey(this.keys);
    if (!key) throw new KeyFileError(`${this.file}: every key is retired; run rotate-keys`);
    return { kid: key.kid, secret: key.secret };
  }

  async verificationKey(kid: string): Promise<Uint8Array | undefined> {
    let key = this.keys.find((k) => k.kid === kid);
    if (!key) {
      await this.reloadIfChanged();
      key = this.keys.find((k) => k.kid === kid);
    }
    return key && verifies(key, this.clock.now(), this.maxTokenLifetimeSeconds)
      ? key.secret
      : undefined;
  }

  /** At most once a second, whatever the callers send (unknown kids included). */
  private async reloadIfChanged(): Promise<void> {
    const now = this.clock.now();
    if (now - this.checkedAt < RELOAD_INTERVAL_MS) return;
    this.checkedAt = now;
    try {
      const info = await stat(this.file);
      if (versionOf(info) === this.version) return;
      const loaded = await FileKeyRing.read(this.file);
      if (!activeKey(loaded.keys)) throw new KeyFileError('every key is retired');
      this.keys = loaded.keys;
      this.version = loaded.version;
      this.logger.info('reloaded the JWT signing keys', {
        file: this.file,
        kids: loaded.keys.map((k) => k.kid),
      });
    } catch (error) {
      // The keys in memory stay in use: a half-written or removed file must not stop logins.
      this.logger.warn('cannot reload the JWT signing keys; keeping the loaded ones', {
        file: this.file,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
}

/**
 * The signing keys at start: from CYBERCORP_JWT_SECRET_FILE, or from (generated on first start
 * into) the data directory. The secret the database used to hold is deleted, so tokens signed
 * with it stop verifying.
 */
export async function loadSigningKeys(options: {
  config: { jwtSecretFile?: string; dataDir: string; databaseUrl?: string };
  clock: Clock;
  maxTokenLifetimeSeconds: number;
  logger: Logger;
  forgetLegacySecret: () => Promise<boolean>;
}): Promise<FileKeyRing> {
  const { config, logger, clock } = options;
  const file = keyFileOf(config);
  const created = await createExclusively(file, [newKey(clock.now())]);
  const { mode } = await stat(file);
  if (created) {
    await chmod(file, 0o600);
    logger.info('generated JWT signing keys', { file });
  } else if ((mode & 0o077) !== 0) {
    logger.warn('the JWT signing key file is readable by other accounts; make it 0600', {
      file,
      mode: (mode & 0o777).toString(8),
    });
  }
  if (config.databaseUrl && !config.jwtSecretFile) {
    logger.warn(
      'JWT signing keys are in the data directory: every instance sharing this database must use the same key file (set CYBERCORP_JWT_SECRET_FILE)',
      { file },
    );
  }
  if (await options.forgetLegacySecret()) {
    logger.warn(
      'removed the JWT secret from the database; access tokens issued before this start no longer verify (users log in again)',
    );
  }
  return FileKeyRing.open({
    file,
    clock,
    maxTokenLifetimeSeconds: options.maxTokenLifetimeSeconds,
    logger,
  });
}

/** A key ring in memory (tests, tools). */
export function keyRingOf(keys: readonly StoredKey[], clock: Clock, maxTokenLifetimeSeconds = 900) {
  return {
    signingKey: async () => {
      const key = activeKey(keys);
      if (!key) throw new KeyFileError('every key is retired');
      return { kid: key.kid, secret: key.secret };
    },
    verificationKey: async (kid: string) => {
      const key = keys.find((k) => k.kid === kid);
      return key && verifies(key, clock.now(), maxTokenLifetimeSeconds) ? key.secret : undefined;
    },
  } satisfies KeyRing;
}
