import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import type { TlsSettings } from '../config.js';
import type { Logger } from './logger.js';

/** Renewals write several files (dev-certs: key, then certificate); reload once they settle. */
export const TLS_RELOAD_DEBOUNCE_MS = 250;

export type TlsErrorCode = 'tls_files_unreadable' | 'tls_credentials_invalid';

export class TlsCredentialsError extends Error {
  constructor(
    readonly code: TlsErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** A certificate (with its chain) and its private key that belong together. */
export interface TlsCredentials {
  cert: Buffer;
  key: Buffer;
  /** SHA-256 fingerprint of the leaf certificate (`AB:CD:…`, as Node prints it). */
  fingerprint256: string;
  validTo: string;
}

const detailOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Checks that `cert` is a certificate, `key` a private key, that the key is the certificate's,
 * and that Node builds a secure context of them; throws `tls_credentials_invalid` otherwise.
 */
export function tlsCredentialsOf(
  cert: Buffer,
  key: Buffer,
  minVersion: TlsSettings['minVersion'],
): TlsCredentials {
  const invalid = (what: string, error?: unknown) =>
    new TlsCredentialsError(
      'tls_credentials_invalid',
      error === undefined ? what : `${what}: ${detailOf(error)}`,
    );
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(cert);
  } catch (error) {
    throw invalid('the certificate file holds no X.509 certificate', error);
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key);
  } catch (error) {
    throw invalid('the key file holds no private key', error);
  }
  if (!leaf.checkPrivateKey(privateKey)) {
    throw invalid(`the private key does not belong to the certificate ${leaf.fingerprint256}`);
  }
  try {
    createSecureContext({ cert, key, minVersion });
  } catch (error) {
    throw invalid('the certificate and key make no TLS context', error);
  }
  return { cert, key, fingerprint256: leaf.fingerprint256, validTo: leaf.validTo };
}

/** Reads and checks TLS_CERT_FILE and TLS_KEY_FILE. */
export async function loadTlsCredentials(settings: TlsSettings): Promise<TlsCredentials> {
  const read = (variable: string, file: string) =>
    readFile(file).catch((error: NodeJS.ErrnoException) => {
      throw new TlsCredentialsError(
        'tls_files_unreadable',
        `cannot read ${variable} ${file}: ${error.code ?? detailOf(error)}`,
      );
    });
  const [cert, key] = await Promise.all([
    read('TLS_CERT_FILE', settings.certFile),
    read('TLS_KEY_FILE', settings.keyFile),
  ]);
  return tlsCredentialsOf(cert, key, settings.minVersion);
}

/** The options of `https.createServer` and `setSecureContext` for these credentials. */
export function secureContextOptions(
  credentials: TlsCredentials,
  settings: TlsSettings,
): SecureContextOptions {
  return { cert: credentials.cert, key: credentials.key, minVersion: settings.minVersion };
}

export type TlsReloadTrigger = 'file_change' | 'signal' | 'request';

export type TlsReloadOutcome =
  | { status: 'reloaded' | 'unchanged'; fingerprint256: string }
  /** The old certificate (`fingerprint256`) is still served. */
  | { status: 'refused'; code: TlsErrorCode; detail: string; fingerprint256: string };

/** What a reload swaps the credentials of: an https/tls server. */
export interface SecureContextTarget {
  setSecureContext(options: SecureContextOptions): void;
}

/**
 * Keeps a TLS server on the current certificate without a restart: `reload()` re-reads the files
 * and swaps the server's secure context (new connections get the new certificate, open ones
 * keep theirs). A pair that is unreadable or does not match is logged with its code and the old
 * certificate stays. `watch()` reloads on changes in the files' directories: renewals replace
 * files by rename (and Kubernetes swaps a symlinked directory), which a watch on the file itself
 * would miss after the first time.
 */
export class TlsReloader {
  private served: TlsCredentials;
  private queue: Promise<unknown> = Promise.resolve();
  private watchers: FSWatcher[] = [];
  private debounce: NodeJS.Timeout | undefined;

  constructor(
    private readonly deps: {
      target: SecureContextTarget;
      settings: TlsSettings;
      initial: TlsCredentials;
      logger: Logger;
      debounceMs?: number;
    },
  ) {
    this.served = deps.initial;
  }

  get credentials(): TlsCredentials {
    return this.served;
  }

  /** One reload at a time, in the order asked. */
  reload(trigger: TlsReloadTrigger): Promise<TlsReloadOutcome> {
    const next = this.queue.then(() => this.reloadNow(trigger));
    this.queue = next.catch(() => undefined);
    return next;
  }

  watch(): void {
    const directories = new Set([
      dirname(this.deps.settings.certFile),
      dirname(this.deps.settings.keyFile),
    ]);
    for (const directory of directories) {
      try {
        const watcher = watch(directory, { persistent: false }, () => this.changed());
        watcher.on('error', (error) => this.watchFailed(directory, error));
        this.watchers.push(watcher);
      } catch (error) {
        this.watchFailed(directory, error);
      }
    }
  }

  close(): void {
    clearTimeout(this.debounce);
    for (const watcher of this.watchers) watcher.close();
    this.watchers = [];
  }

  private changed(): void {
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => {
      void this.reload('file_change');
    }, this.deps.debounceMs ?? TLS_RELOAD_DEBOUNCE_MS);
    this.debounce.unref();
  }

  private watchFailed(directory: string, error: unknown): void {
    this.deps.logger.warn('cannot watch the TLS files; a renewed certificate needs SIGHUP', {
      code: 'tls_watch_failed',
      directory,
      err: error,
    });
  }

  private async reloadNow(trigger: TlsReloadTrigger): Promise<TlsReloadOutcome> {
    const { settings, target, logger } = this.deps;
    let fresh: TlsCredentials;
    try {
      fresh = await loadTlsCredentials(settings);
      if (fresh.cert.equals(this.served.cert) && fresh.key.equals(this.served.key)) {
        // Other files in the directory change too; only a signal deserves a line.
        if (trigger !== 'file_change') {
          logger.info('TLS certificate unchanged', {
            trigger,
            fingerprint256: this.served.fingerprint256,
          });
        }
        return { status: 'unchanged', fingerprint256: this.served.fingerprint256 };
      }
      target.setSecureContext(secureContextOptions(fresh, settings));
    } catch (error) {
      const code = error instanceof TlsCredentialsError ? error.code : 'tls_credentials_invalid';
      const detail = detailOf(error);
      logger.warn('TLS certificate reload refused; still serving the previous certificate', {
        code,
        trigger,
        detail,
        fingerprint256: this.served.fingerprint256,
      });
      return { status: 'refused', code, detail, fingerprint256: this.served.fingerprint256 };
    }
    const previous = this.served.fingerprint256;
    this.served = fresh;
    logger.info('TLS certificate reloaded', {
      code: 'tls_reloaded',
      trigger,
      fingerprint256: fresh.fingerprint256,
      previousFingerprint256: previous,
      validTo: fresh.validTo,
    });
    return { status: 'reloaded', fingerprint256: fresh.fingerprint256 };
  }
}
