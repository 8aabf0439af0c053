import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger, type Logger } from '../infra/logger.js';
import {
  JWT_KEY_FILE_NAME,
  KeyFileError,
  loadSigningKeys,
  parseKeyFile,
  rotateKeyFile,
} from './signing-keys.js';

const warnings: string[] = [];
const logger: Logger = {
  ...silentLogger,
  warn: (message) => {
    warnings.push(message);
  },
};
let dir: string;
const clock = { t: 1_800_000_000_000, now: () => clock.t };

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'signing-keys-'));
  warnings.length = 0;
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const load = (config: { dataDir: string; jwtSecretFile?: string; databaseUrl?: string }) =>
  loadSigningKeys({
    config,
    clock,
    maxTokenLifetimeSeconds: 900,
    logger,
    forgetLegacySecret: async () => false,
  });

describe('signing keys', () => {
  it('are generated once into a 0600 file under the data directory and reused', async () => {
    const first = await load({ dataDir: dir });
    const file = path.join(dir, JWT_KEY_FILE_NAME);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const second = await load({ dataDir: dir });
    expect((await second.signingKey()).kid).toBe((await first.signingKey()).kid);
    expect(warnings).toEqual([]);
  });

  it('warn that instances must share the file when the database is external', async () => {
    await load({ dataDir: dir, databaseUrl: 'postgres://db.example/cybercorp' });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('CYBERCORP_JWT_SECRET_FILE');
  });

  it('are picked up after a rotation, the previous key still verifying', async () => {
    const file = path.join(dir, 'shared', 'keys.json');
    const ring = await load({ dataDir: dir, jwtSecretFile: file });
    const before = await ring.signingKey();
    const { kid, retired } = await rotateKeyFile(file, clock.t);
    expect(retired).toEqual([before.kid]);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    clock.t += 1000;
    expect((await ring.signingKey()).kid).toBe(kid);
    expect(await ring.verificationKey(before.kid)).toEqual(before.secret);
    clock.t += 900_000 + 60_000;
    expect(await ring.verificationKey(before.kid)).toBeUndefined();
    expect(await ring.verificationKey(kid)).toBeDefined();
  });

  it('accept a bare secret of at least 32 bytes, and refuse a malformed file', async () => {
    const [key] = parseKeyFile('a-mounted-secret-of-32-bytes-or-more\n', 'mounted');
    expect(key?.kid).toHaveLength(12);
    expect(() => parseKeyFile('short', 'f')).toThrow(KeyFileError);
    expect(() => parseKeyFile('{"keys":[]}', 'f')).toThrow(KeyFileError);
    const file = path.join(dir, 'bad.json');
    await writeFile(file, '{"keys":[{"kid":"x","secret":"c2hvcnQ","createdAt":"2020-01-01"}]}');
    await expect(load({ dataDir: dir, jwtSecretFile: file })).rejects.toThrow(KeyFileError);
    expect(await readFile(file, 'utf8')).toContain('"x"');
  });

  it('are read from an existing file without writing beside it (a read-only Secret volume)', async () => {
    // A directory nobody can create files in, not even root (tests run as root in CI), holding
    // a file of more than 32 bytes: what a Kubernetes Secret mounted read-only looks like.
    const readOnly = '/proc/sys/kernel/random/boot_id';
    const ring = await load({ dataDir: dir, jwtSecretFile: readOnly });
    const [expected] = parseKeyFile(await readFile(readOnly, 'utf8'), readOnly);
    expect((await ring.signingKey()).kid).toBe(expected?.kid);
  });
});
