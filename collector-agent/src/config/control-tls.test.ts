import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.js';
import { isLoopbackHost, resolveControlTls } from './control-tls.js';

const PIN = 'W+go/X+O9XlFmycTVMIuT8Nn5kw2m1+TogXh6V58dfo=';
const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const plain = {
  agentToken: 'secret-token',
  caFile: undefined,
  tlsPins: undefined,
  allowPlaintext: false,
};

describe('control connection security', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'control-tls-'));
    await writeFile(join(dir, 'ca.crt'), PEM);
    await writeFile(
      join(dir, 'key.pem'),
      // A key made for this run, never stored in the repository.
      generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
        type: 'pkcs8',
        format: 'pem',
      }),
    );
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('knows loopback hosts', () => {
    for (const host of ['localhost', '127.0.0.1', '127.3.2.1', '[::1]', 'agent.localhost'])
      expect(isLoopbackHost(host), host).toBe(true);
    for (const host of ['cp.example', '10.0.0.1', '128.0.0.1', '[::2]', 'localhost.example'])
      expect(isLoopbackHost(host), host).toBe(false);
  });

  it('refuses to send the token over ws:// to a host other than loopback', async () => {
    const remote = new URL('ws://cp.example:8080/v1/opamp');
    const refusal = resolveControlTls(remote, plain);
    await expect(refusal).rejects.toBeInstanceOf(ConfigError);
    await expect(refusal).rejects.toThrow(
      /clear text.*cp\.example:8080.*ALLOW_PLAINTEXT_HTTP=true/s,
    );
    // Allowed on loopback, when said so, and without a token to leak.
    await expect(
      resolveControlTls(new URL('ws://127.0.0.1:8080/v1/opamp'), plain),
    ).resolves.toBeUndefined();
    await expect(
      resolveControlTls(remote, { ...plain, allowPlaintext: true }),
    ).resolves.toBeUndefined();
    await expect(
      resolveControlTls(remote, { ...plain, agentToken: undefined }),
    ).resolves.toBeUndefined();
  });

  it('refuses a CA file or pins with ws://, where they could not be checked', async () => {
    const local = new URL('ws://127.0.0.1:8080/v1/opamp');
    await expect(resolveControlTls(local, { ...plain, tlsPins: [PIN] })).rejects.toThrow(
      /CYBERCORP_TLS_PIN_SHA256 is set but CYBERCORP_CONTROL_URL is ws:\/\//,
    );
    await expect(
      resolveControlTls(local, { ...plain, caFile: join(dir, 'ca.crt') }),
    ).rejects.toThrow(/CYBERCORP_CA_FILE is set but/);
  });

  it('reads the CA bundle for wss:// and passes the pins on', async () => {
    const secure = new URL('wss://cp.example/v1/opamp');
    await expect(resolveControlTls(secure, plain)).resolves.toEqual({
      ca: undefined,
      pins: undefined,
    });
    await expect(
      resolveControlTls(secure, { ...plain, caFile: join(dir, 'ca.crt'), tlsPins: [PIN] }),
    ).resolves.toEqual({ ca: PEM, pins: [PIN] });
  });

  it('names CYBERCORP_CA_FILE when it is missing or holds no certificate', async () => {
    const secure = new URL('wss://cp.example/v1/opamp');
    await expect(
      resolveControlTls(secure, { ...plain, caFile: join(dir, 'nope.crt') }),
    ).rejects.toThrow(/CYBERCORP_CA_FILE .*nope\.crt cannot be read/);
    await expect(
      resolveControlTls(secure, { ...plain, caFile: join(dir, 'key.pem') }),
    ).rejects.toThrow(/CYBERCORP_CA_FILE .*key\.pem holds no PEM certificate/);
  });
});
