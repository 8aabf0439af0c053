import { createHash, type X509Certificate } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { request } from 'node:https';
import type { TLSSocket, SecureVersion } from 'node:tls';

/** base64 SHA-256 of a certificate's SubjectPublicKeyInfo (RFC 7469), as `server.pin` holds it. */
export function spkiPin(certificate: X509Certificate): string {
  const spki = certificate.publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}

export interface TlsProbe {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** The negotiated version, e.g. `TLSv1.3`. */
  protocol: string | null;
  /** The SPKI pin and the fingerprint of the certificate the server presented. */
  pin: string;
  fingerprint256: string;
}

/**
 * One HTTPS GET on a connection of its own (no pooling, so each probe sees the certificate the
 * server serves now), verifying the server against `ca`; rejects when the handshake fails.
 */
export function probeTls(
  url: string,
  options: {
    ca: string | Buffer;
    maxVersion?: SecureVersion;
    minVersion?: SecureVersion;
    headers?: Record<string, string>;
  },
): Promise<TlsProbe> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        agent: false,
        ca: options.ca,
        headers: options.headers,
        ...(options.maxVersion && { maxVersion: options.maxVersion }),
        ...(options.minVersion && { minVersion: options.minVersion }),
      },
      (res) => {
        const socket = res.socket as TLSSocket;
        const certificate = socket.getPeerX509Certificate();
        const protocol = socket.getProtocol();
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          if (!certificate) {
            reject(new Error(`${url}: the server presented no certificate`));
            return;
          }
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
            protocol,
            pin: spkiPin(certificate),
            fingerprint256: certificate.fingerprint256,
          });
        });
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error(`${url}: no answer within 10 s`)));
    req.on('error', reject);
    req.end();
  });
}
