import { createHash, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { DetailedPeerCertificate } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDevCerts, type DevCerts } from '../../../control-api/src/test-support/dev-certs.js';
import { ConfigError } from '../config/config-error.js';
import {
  chainPins,
  checkPins,
  parseSpkiPins,
  PinMismatchError,
  pinnedServerIdentity,
  spkiPin,
} from './spki-pins.js';

const PIN_A = 'uP7Yk2nDq9W3E5xT+R1z0VbH8cJmLfGpQa6sNoIwKeY=';
const PIN_B = 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';

describe('parseSpkiPins', () => {
  it('accepts bare base64, sha256/… and pin-sha256="…", comma-separated', () => {
    expect(parseSpkiPins(PIN_A)).toEqual([PIN_A]);
    expect(parseSpkiPins(`sha256/${PIN_A}`)).toEqual([PIN_A]);
    expect(parseSpkiPins(`pin-sha256="${PIN_A}"`)).toEqual([PIN_A]);
    expect(parseSpkiPins(` sha256/${PIN_A} , pin-sha256="${PIN_B}",`)).toEqual([PIN_A, PIN_B]);
    expect(parseSpkiPins(`${PIN_A},${PIN_A}`)).toEqual([PIN_A]);
  });

  it('refuses a pin that is not 32 bytes of base64, naming the variable and the entry', () => {
    for (const bad of [
      'abc',
      PIN_A.slice(0, 40) + '=', // 30 bytes
      `sha1/${PIN_A}`,
      'f'.repeat(64), // hex, not base64
      `${PIN_A.slice(0, 43)}`, // padding missing: not the RFC 7469 spelling
      `pin-sha256=${PIN_A}`, // the header form needs its quotes
    ]) {
      const error = (() => {
        try {
          parseSpkiPins(`${PIN_B},${bad}`);
        } catch (caught) {
          return caught;
        }
      })();
      expect(error, bad).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toContain('CYBERCORP_TLS_PIN_SHA256');
      expect((error as Error).message).toContain(bad);
    }
    expect(() => parseSpkiPins(' , ')).toThrow(/CYBERCORP_TLS_PIN_SHA256 holds no pin/);
  });
});

describe('SPKI pins of real certificates (scripts/dev-certs, EC P-256)', () => {
  let certs: DevCerts;
  let leaf: X509Certificate;
  let ca: X509Certificate;
  /** What Node hands checkServerIdentity: the leaf, its issuer, the root pointing at itself. */
  let presented: DetailedPeerCertificate;

  beforeAll(async () => {
    certs = await makeDevCerts();
    leaf = new X509Certificate(await readFile(certs.certFile));
    ca = new X509Certificate(await readFile(certs.caFile));
    const root = { ...ca.toLegacyObject() } as DetailedPeerCertificate;
    root.issuerCertificate = root;
    presented = { ...leaf.toLegacyObject(), issuerCertificate: root };
  });
  afterAll(() => certs?.remove());

  it('hashes the SubjectPublicKeyInfo DER, as openssl does for server.pin', () => {
    expect(spkiPin(leaf)).toBe(certs.pin);
    expect(spkiPin(leaf.raw)).toBe(certs.pin);
    // Node's PeerCertificate.pubkey for an EC key is the bare point, not the SPKI: hashing it
    // gives a different value, which would match no pin anyone computed by the RFC.
    const pubkey = leaf.toLegacyObject().pubkey ?? Buffer.alloc(0);
    expect(pubkey.length).toBe(65);
    expect(createHash('sha256').update(pubkey).digest('base64')).not.toBe(certs.pin);
  });

  it('lists the pins of the presented chain, leaf first, stopping at the self-signed root', () => {
    expect(chainPins(presented)).toEqual([certs.pin, spkiPin(ca)]);
    expect(chainPins(leaf.toLegacyObject())).toEqual([certs.pin]);
  });

  it('accepts a chain carrying a pinned key (leaf or CA), with or without a backup pin', () => {
    expect(checkPins('localhost', presented, [certs.pin])).toBeUndefined();
    expect(checkPins('localhost', presented, [spkiPin(ca)])).toBeUndefined();
    expect(checkPins('localhost', presented, [PIN_A, certs.pin])).toBeUndefined();
    expect(checkPins('localhost', presented, [certs.pin, PIN_B])).toBeUndefined();
  });

  it('refuses a chain without a pinned key, naming the expected and the presented pins', () => {
    const refusal = checkPins('localhost', presented, [PIN_A, PIN_B]);
    expect(refusal).toBeInstanceOf(PinMismatchError);
    expect(refusal?.code).toBe('tls_pin_mismatch');
    expect(refusal?.expected).toEqual([PIN_A, PIN_B]);
    expect(refusal?.presented).toEqual([certs.pin, spkiPin(ca)]);
    expect(refusal?.message).toContain(PIN_A);
    expect(refusal?.message).toContain(certs.pin);
  });

  it('checks the host name first and the pins second', () => {
    const pinned = pinnedServerIdentity([certs.pin]);
    expect(pinned('localhost', presented)).toBeUndefined();
    expect(pinned('127.0.0.1', presented)).toBeUndefined();
    // The right key under a name the certificate does not carry is still refused.
    expect(pinned('cp.example', presented)).toMatchObject({ code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
    expect(pinnedServerIdentity([PIN_A])('localhost', presented)).toBeInstanceOf(PinMismatchError);
    // No pins: the host name check alone.
    expect(pinnedServerIdentity(undefined)('localhost', presented)).toBeUndefined();
    expect(pinnedServerIdentity(undefined)('cp.example', presented)).toBeInstanceOf(Error);
  });
});
