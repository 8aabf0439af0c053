import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SecureContextOptions } from 'node:tls';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TlsSettings } from '../config.js';
import { makeDevCerts, type DevCerts } from '../test-support/dev-certs.js';
import { recordingLogger } from '../test-support/recording-logger.js';
import {
  loadTlsCredentials,
  TlsCredentialsError,
  tlsCredentialsOf,
  TlsReloader,
} from './tls-context.js';

// Two server certificates with their keys, made for this run by scripts/dev-certs (never
// stored in the repository); nothing outside the test trusts them.
const [pairA, pairB] = await Promise.all([makeDevCerts(), makeDevCerts()]);
const readPair = async (certs: DevCerts) =>
  [await readFile(certs.certFile, 'utf8'), await readFile(certs.keyFile, 'utf8')] as const;
const [CERT_A, KEY_A] = await readPair(pairA);
const [CERT_B, KEY_B] = await readPair(pairB);
afterAll(async () => {
  await pairA.remove();
  await pairB.remove();
});
const FINGERPRINT_A = new X509Certificate(CERT_A).fingerprint256;
const FINGERPRINT_B = new X509Certificate(CERT_B).fingerprint256;
/** A fragment of a private key that no message or log line may carry. */
const KEY_FRAGMENT = 'aOMB1mPgAsAi2xMk';

const pem = (text: string) => Buffer.from(text);

function invalidOf(attempt: () => unknown): TlsCredentialsError {
  try {
    attempt();
  } catch (error) {
    if (error instanceof TlsCredentialsError) return error;
    throw error;
  }
  throw new Error('expected a TlsCredentialsError');
}

describe('tlsCredentialsOf', () => {
  it('accepts a certificate with its own key', () => {
    const credentials = tlsCredentialsOf(pem(CERT_A), pem(KEY_A), 'TLSv1.3');
    expect(credentials.fingerprint256).toBe(FINGERPRINT_A);
    expect(credentials.validTo).toBe(new X509Certificate(CERT_A).validTo);
  });

  it('refuses a key of another certificate, or files that hold no certificate or key', () => {
    const mismatch = invalidOf(() => tlsCredentialsOf(pem(CERT_A), pem(KEY_B), 'TLSv1.3'));
    expect(mismatch.code).toBe('tls_credentials_invalid');
    expect(mismatch.message).toContain('does not belong to the certificate');
    const noCert = invalidOf(() => tlsCredentialsOf(pem(KEY_A), pem(KEY_A), 'TLSv1.3'));
    expect(noCert.message).toContain('holds no X.509 certificate');
    const noKey = invalidOf(() => tlsCredentialsOf(pem(CERT_A), pem(CERT_A), 'TLSv1.2'));
    expect(noKey.message).toContain('holds no private key');
    const truncated = invalidOf(() =>
      tlsCredentialsOf(pem(CERT_A), pem(KEY_A.slice(0, 80)), 'TLSv1.3'),
    );
    for (const error of [mismatch, noCert, noKey, truncated]) {
      expect(error.code).toBe('tls_credentials_invalid');
      expect(error.message).not.toContain(KEY_FRAGMENT);
    }
  });
});

describe('TLS files', () => {
  let dir: string;
  let settings: TlsSettings;
  /** Replaces a file by rename, as scripts/dev-certs --renew does. */
  const replace = async (name: string, content: string) => {
    await writeFile(join(dir, `${name}.new`), content, { mode: 0o600 });
    await rename(join(dir, `${name}.new`), join(dir, name));
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tls-context-'));
    settings = {
      certFile: join(dir, 'server.crt'),
      keyFile: join(dir, 'server.key'),
      minVersion: 'TLSv1.3',
    };
    await replace('server.crt', CERT_A);
    await replace('server.key', KEY_A);
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('loads a pair, or says which file it cannot read', async () => {
    expect((await loadTlsCredentials(settings)).fingerprint256).toBe(FINGERPRINT_A);
    const missing = { ...settings, keyFile: join(dir, 'absent.key') };
    await expect(loadTlsCredentials(missing)).rejects.toMatchObject({
      code: 'tls_files_unreadable',
      message: expect.stringMatching(/cannot read TLS_KEY_FILE .*absent\.key: ENOENT/) as string,
    });
  });

  /** A reloader over a recording stand-in for the https server. */
  async function reloaderOf(debounceMs = 10) {
    const contexts: SecureContextOptions[] = [];
    const logger = recordingLogger();
    const reloader = new TlsReloader({
      target: { setSecureContext: (options) => contexts.push(options) },
      settings,
      initial: await loadTlsCredentials(settings),
      logger,
      debounceMs,
    });
    return { reloader, contexts, logger };
  }

  it('swaps in a renewed pair, with the minimum version, and skips an unchanged one', async () => {
    const { reloader, contexts, logger } = await reloaderOf();
    expect(await reloader.reload('signal')).toEqual({
      status: 'unchanged',
      fingerprint256: FINGERPRINT_A,
    });
    expect(contexts).toHaveLength(0);

    await replace('server.key', KEY_B);
    await replace('server.crt', CERT_B);
    expect(await reloader.reload('signal')).toEqual({
      status: 'reloaded',
      fingerprint256: FINGERPRINT_B,
    });
    expect(contexts).toEqual([{ cert: pem(CERT_B), key: pem(KEY_B), minVersion: 'TLSv1.3' }]);
    expect(reloader.credentials.fingerprint256).toBe(FINGERPRINT_B);
    const reloaded = JSON.parse(logger.lines.at(-1)!) as Record<string, unknown>;
    expect(reloaded).toMatchObject({
      code: 'tls_reloaded',
      trigger: 'signal',
      fingerprint256: FINGERPRINT_B,
      previousFingerprint256: FINGERPRINT_A,
    });
  });

  it('keeps the served pair when the new one is mismatched or unreadable, logging the code', async () => {
    const { reloader, contexts, logger } = await reloaderOf();
    await replace('server.key', KEY_B);
    expect(await reloader.reload('signal')).toMatchObject({
      status: 'refused',
      code: 'tls_credentials_invalid',
      fingerprint256: FINGERPRINT_A,
    });
    await rm(settings.certFile);
    expect(await reloader.reload('request')).toMatchObject({
      status: 'refused',
      code: 'tls_files_unreadable',
      fingerprint256: FINGERPRINT_A,
    });
    expect(contexts).toHaveLength(0);
    expect(reloader.credentials.fingerprint256).toBe(FINGERPRINT_A);
    const refusals = logger.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(refusals.map((line) => line.code)).toEqual([
      'tls_credentials_invalid',
      'tls_files_unreadable',
    ]);
    expect(refusals[0]?.message).toMatch(/still serving the previous certificate/);
    expect(logger.lines.join('\n')).not.toContain(KEY_FRAGMENT);
  });

  it('reloads by itself when the files are replaced by rename, again and again', async () => {
    const { reloader, contexts } = await reloaderOf();
    reloader.watch();
    try {
      const servedFingerprint = async (expected: string) => {
        const deadline = Date.now() + 10_000;
        while (reloader.credentials.fingerprint256 !== expected && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        return reloader.credentials.fingerprint256;
      };
      await replace('server.key', KEY_B);
      await replace('server.crt', CERT_B);
      expect(await servedFingerprint(FINGERPRINT_B)).toBe(FINGERPRINT_B);
      // The watch is on the directory: the files renamed over the first time are seen again.
      await replace('server.key', KEY_A);
      await replace('server.crt', CERT_A);
      expect(await servedFingerprint(FINGERPRINT_A)).toBe(FINGERPRINT_A);
      expect(contexts.at(-1)?.cert).toEqual(pem(CERT_A));
    } finally {
      reloader.close();
    }
  });
});
