import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const DEV_CERTS_SCRIPT = resolve(import.meta.dirname, '../../../scripts/dev-certs');

/** The files `scripts/dev-certs` writes, and the server certificate's current SPKI pin. */
export interface DevCerts {
  dir: string;
  caFile: string;
  certFile: string;
  keyFile: string;
  clientCertFile: string;
  clientKeyFile: string;
  /** base64 SHA-256 of the server certificate's SubjectPublicKeyInfo (RFC 7469). */
  pin: string;
  /** Issues a new server key and certificate from the same CA; `pin` follows. */
  renew(): Promise<void>;
  remove(): Promise<void>;
}

/** Runs the project's own `scripts/dev-certs` (needs openssl) into a fresh temporary directory. */
export async function makeDevCerts(): Promise<DevCerts> {
  const dir = await mkdtemp(join(tmpdir(), 'cybercorp-certs-'));
  const issue = async (...flags: string[]) => {
    await run('bash', [DEV_CERTS_SCRIPT, ...flags, dir]).catch((error: Error) => {
      throw new Error(`scripts/dev-certs failed (is openssl installed?): ${error.message}`);
    });
    certs.pin = (await readFile(join(dir, 'server.pin'), 'utf8')).trim();
  };
  const certs: DevCerts = {
    dir,
    caFile: join(dir, 'ca.crt'),
    certFile: join(dir, 'server.crt'),
    keyFile: join(dir, 'server.key'),
    clientCertFile: join(dir, 'client.crt'),
    clientKeyFile: join(dir, 'client.key'),
    pin: '',
    renew: () => issue('--renew'),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
  await issue();
  return certs;
}
