import { LogThrottle } from '@cybercorp/logging';
import type { Logger } from '../logger.js';
import { PinMismatchError } from './spki-pins.js';

/**
 * One line per distinct refusal and interval: the backoff keeps retrying the same URL, and a
 * certificate that fails once fails on every attempt until someone changes it.
 */
export const TLS_REFUSAL_LOG_INTERVAL_MS = 5 * 60_000;

/** Node's codes for a certificate it could not verify (OpenSSL's X509 errors and the name check). */
const VERIFY_ERROR_CODE =
  /CERT|SELF_SIGNED|ISSUER|LEAF_SIGNATURE|CHAIN_TOO_LONG|PATH_LENGTH|ERR_TLS_CERT_ALTNAME_INVALID/;

export type TlsRefusalCode = 'tls_pin_mismatch' | 'tls_verify_failed';

/** What a connection error says about the server's certificate, if it is a certificate refusal. */
export function tlsRefusalOf(
  error: Error,
): { code: TlsRefusalCode; fields: Record<string, unknown> } | undefined {
  if (error instanceof PinMismatchError) {
    return {
      code: error.code,
      fields: { expectedPins: error.expected, presentedPins: error.presented },
    };
  }
  const nodeCode = (error as NodeJS.ErrnoException).code;
  if (typeof nodeCode === 'string' && VERIFY_ERROR_CODE.test(nodeCode)) {
    return { code: 'tls_verify_failed', fields: { verifyError: nodeCode, reason: error.message } };
  }
  return undefined;
}

/** Logs refused server certificates, throttled per distinct refusal. */
export class TlsRefusalLog {
  private readonly throttle = new LogThrottle(TLS_REFUSAL_LOG_INTERVAL_MS, 100);

  constructor(
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether the error was a certificate refusal (logged now or recently). */
  report(url: string, error: Error): boolean {
    const refusal = tlsRefusalOf(error);
    if (!refusal) return false;
    const key = JSON.stringify([refusal.code, refusal.fields]);
    const pass = this.throttle.take(key, this.now());
    if (pass) {
      this.log.error('refused the control plane certificate; not connecting', {
        code: refusal.code,
        url,
        ...refusal.fields,
        ...(pass.suppressed > 0 ? { repeatedSinceLastLine: pass.suppressed } : {}),
      });
    }
    return true;
  }
}
