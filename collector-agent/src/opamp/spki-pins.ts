/**
 * Certificate pinning as RFC 7469 defines a pin: the base64 SHA-256 of a certificate's
 * SubjectPublicKeyInfo DER. A chain matches a pin set when any of its certificates (leaf,
 * intermediates, root) has its SPKI hash in the set, so an operator can pin the CA, and a set
 * can carry a backup pin for the next key during a rotation.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { checkServerIdentity, type DetailedPeerCertificate, type PeerCertificate } from 'node:tls';
import { ConfigError } from '../config/config-error.js';

export const PIN_VARIABLE = 'CYBERCORP_TLS_PIN_SHA256';

/** 32 bytes of standard base64: 43 characters and one `=` of padding. */
const PIN_PATTERN = /^[A-Za-z0-9+/]{43}=$/;

/**
 * Parses a comma-separated pin set. Each pin may be bare base64, `sha256/<base64>` (the
 * spelling of HPKP reports and curl) or `pin-sha256="<base64>"` (the header's own). Anything
 * else, a pin that is not 32 bytes, is a configuration error naming the variable.
 */
export function parseSpkiPins(text: string, variable = PIN_VARIABLE): string[] {
  const pins = text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map((entry) => {
      const pin = unwrapPin(entry);
      if (!PIN_PATTERN.test(pin)) {
        throw new ConfigError(
          `${variable}: "${entry}" is not a SHA-256 pin (the base64 of 32 bytes, as bare ` +
            'base64, sha256/<base64> or pin-sha256="<base64>")',
        );
      }
      return pin;
    });
  if (pins.length === 0) throw new ConfigError(`${variable} holds no pin: "${text}"`);
  return [...new Set(pins)];
}

function unwrapPin(entry: string): string {
  const header = /^pin-sha256\s*=\s*"([^"]*)"$/i.exec(entry);
  if (header) return header[1]!.trim();
  if (/^sha256\//i.test(entry)) return entry.slice('sha256/'.length);
  return entry;
}

/**
 * The pin of one certificate. Node's `PeerCertificate.pubkey` is not the SPKI (for an EC key it
 * is the bare 65-byte point), so the SPKI DER is taken from the parsed certificate instead.
 */
export function spkiPin(certificate: X509Certificate | Buffer | string): string {
  const parsed =
    certificate instanceof X509Certificate ? certificate : new X509Certificate(certificate);
  const spki = parsed.publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}

/**
 * The pins of the chain the server presented, leaf first, following `issuerCertificate` (which
 * Node fills from the verified chain) until the self-signed root points at itself.
 */
export function chainPins(leaf: PeerCertificate | DetailedPeerCertificate): string[] {
  const pins: string[] = [];
  const seen = new Set<PeerCertificate>();
  let current: Partial<DetailedPeerCertificate> | undefined = leaf;
  while (current?.raw?.length && !seen.has(current as PeerCertificate)) {
    seen.add(current as PeerCertificate);
    pins.push(spkiPin(current.raw));
    current = current.issuerCertificate;
  }
  return pins;
}

/** Refusal of a chain none of whose certificates carries a pinned key. Pins are public. */
export class PinMismatchError extends Error {
  readonly code = 'tls_pin_mismatch';

  constructor(
    readonly host: string,
    readonly expected: readonly string[],
    readonly presented: readonly string[],
  ) {
    super(
      `tls_pin_mismatch: the certificate chain of ${host} matches none of the pins in ` +
        `${PIN_VARIABLE} (expected one of ${expected.join(', ')}; presented ` +
        `${presented.join(', ') || 'no certificate'})`,
    );
    this.name = 'PinMismatchError';
  }
}

/** undefined when the chain carries a pinned key, else the refusal. */
export function checkPins(
  host: string,
  leaf: PeerCertificate | DetailedPeerCertificate,
  pins: readonly string[],
): PinMismatchError | undefined {
  const presented = chainPins(leaf);
  if (presented.some((pin) => pins.includes(pin))) return undefined;
  return new PinMismatchError(host, pins, presented);
}

/**
 * A `checkServerIdentity` for TLS connections: the normal host name check first, then, when
 * pins are given, the pin check. Either failing refuses the connection.
 */
export function pinnedServerIdentity(
  pins: readonly string[] | undefined,
): (host: string, certificate: PeerCertificate) => Error | undefined {
  return (host, certificate) =>
    checkServerIdentity(host, certificate) ??
    (pins && pins.length > 0 ? checkPins(host, certificate, pins) : undefined);
}
