/**
 * Must-hold 1 of issue 11 against the real API: HTTPS and WSS on its one port with a dev-certs
 * certificate, TLS 1.3 only by default, and a renewed certificate served without a restart.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rename, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDevCerts, type DevCerts } from './test-support/dev-certs.js';
import { FakeAgent } from './test-support/fake-agent.js';
import { startTestApi, type TestApi } from './test-support/test-api.js';
import { probeTls } from './test-support/tls-probe.js';

let certs: DevCerts;
let ca: Buffer;
let api: TestApi;

/** Probes until the server presents the certificate with `pin`; the wait is printed, not asserted. */
async function untilServed(url: string, pin: string, what: string): Promise<string> {
  const started = Date.now();
  let served = '';
  while (Date.now() - started < 20_000) {
    served = (await probeTls(url, { ca })).pin;
    if (served === pin) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  console.log(`${what}: new certificate served after ${Date.now() - started} ms`);
  return served;
}

beforeAll(async () => {
  certs = await makeDevCerts();
  ca = await readFile(certs.caFile);
  api = await startTestApi({ certs });
});
afterAll(async () => {
  await api?.stop();
  await certs?.remove();
});

describe('the API with a certificate', () => {
  it('serves HTTPS to a TLS 1.3 client, with HSTS', async () => {
    expect(api.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const reply = await probeTls(`${api.url}/healthz`, { ca });
    expect(reply.protocol).toBe('TLSv1.3');
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body)).toEqual({ status: 'ok' });
    expect(reply.pin).toBe(certs.pin);
    expect(reply.headers['strict-transport-security']).toMatch(/^max-age=\d+/);
  });

  it('refuses a client limited to TLS 1.2', async () => {
    await expect(probeTls(`${api.url}/healthz`, { ca, maxVersion: 'TLSv1.2' })).rejects.toThrow(
      /protocol version|alert/i,
    );
  });

  it('answers what Node refuses before Express (headers too large) as over plain HTTP', async () => {
    const reply = await probeTls(`${api.url}/api/v1/me`, {
      ca,
      headers: { 'x-padding': 'x'.repeat(64 * 1024) },
    });
    expect(reply.status).toBe(431);
    expect(reply.headers['content-type']).toBe('application/problem+json');
    expect(JSON.parse(reply.body)).toMatchObject({ code: 'headers_too_large' });
  });

  it('speaks OpAMP over wss:// on the same port', async () => {
    // The connection gate answers over TLS as it does in the clear.
    await expect(
      FakeAgent.connect({ url: api.opampUrl, token: 'cca_unknown', ca }),
    ).rejects.toMatchObject({
      status: 401,
    });
    expect(api.opampUrl).toMatch(/^wss:\/\/127\.0\.0\.1:\d+\/v1\/opamp$/);
    const agent = await FakeAgent.start({
      url: api.opampUrl,
      token: await api.createAgentToken('tls-agent'),
      ca,
    });
    try {
      expect(agent.replies[0]?.instanceUid).toBeDefined();
    } finally {
      await agent.disconnect();
    }
  });
});

describe('a renewed certificate, without a restart', () => {
  it('is served once scripts/dev-certs --renew has replaced the files', async () => {
    const before = await probeTls(`${api.url}/healthz`, { ca });
    await certs.renew();
    expect(certs.pin).not.toBe(before.pin);
    expect(await untilServed(`${api.url}/healthz`, certs.pin, 'file change')).toBe(certs.pin);
    // The renewed context keeps the minimum version.
    await expect(probeTls(`${api.url}/healthz`, { ca, maxVersion: 'TLSv1.2' })).rejects.toThrow();
    expect((await probeTls(`${api.url}/healthz`, { ca })).protocol).toBe('TLSv1.3');
  });

  it('keeps the current certificate when the new key does not match, and says why', async () => {
    const served = certs.pin;
    // Another valid key (the client's) in place of the server's: a mismatched pair.
    await copyFile(certs.clientKeyFile, `${certs.keyFile}.new`);
    await rename(`${certs.keyFile}.new`, certs.keyFile);
    expect(await api.reloadTls()).toMatchObject({
      status: 'refused',
      code: 'tls_credentials_invalid',
    });
    const reply = await probeTls(`${api.url}/healthz`, { ca });
    expect(reply.status).toBe(200);
    expect(reply.pin).toBe(served);
    // A good pair afterwards is taken again.
    await certs.renew();
    expect(await api.reloadTls()).toMatchObject({
      status: expect.stringMatching(/reloaded|unchanged/) as string,
    });
    expect(await untilServed(`${api.url}/healthz`, certs.pin, 'after a refused pair')).toBe(
      certs.pin,
    );
  });

  describe('the cybercorp-control-api binary on SIGHUP', () => {
    const API_BIN = resolve(import.meta.dirname, '../dist/bin.js');
    let binCerts: DevCerts;
    let workDir: string;
    let child: ChildProcess | undefined;
    let output = '';

    beforeAll(async () => {
      if (!existsSync(API_BIN)) {
        throw new Error(`${API_BIN} is missing: build first (npx tsc -b control-api)`);
      }
      binCerts = await makeDevCerts();
      workDir = await mkdtemp(join(tmpdir(), 'control-api-sighup-'));
      // The binary reads its certificate through links in a directory of their own: it watches
      // that directory, which a renewal in binCerts.dir leaves alone, so only SIGHUP can make
      // it look again.
      const links = join(workDir, 'tls');
      await mkdir(links);
      await symlink(binCerts.certFile, join(links, 'server.crt'));
      await symlink(binCerts.keyFile, join(links, 'server.key'));
      child = spawn(process.execPath, [API_BIN], {
        cwd: workDir,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          ...process.env,
          PORT: '0',
          HOST: '127.0.0.1',
          DATABASE_URL: api.databaseUrl,
          REDIS_URL: '',
          LOG_LEVEL: 'info',
          TLS_CERT_FILE: join(links, 'server.crt'),
          TLS_KEY_FILE: join(links, 'server.key'),
        },
      });
      child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    });
    afterAll(async () => {
      if (child && child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child?.once('exit', resolve));
        child.kill('SIGTERM');
        const forced = setTimeout(() => child?.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(forced);
      }
      await rm(workDir, { recursive: true, force: true });
      await binCerts?.remove();
    });

    it('serves the renewed certificate, still as the same process', async () => {
      const started = Date.now();
      let url: string | undefined;
      while (!url && Date.now() - started < 60_000) {
        if (child?.exitCode !== null) throw new Error(`the API exited early:\n${output}`);
        url = /listening on (https:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      if (!url) throw new Error(`the API printed no https URL:\n${output}`);
      const caOfBin = await readFile(binCerts.caFile);
      const first = await probeTls(`${url}/healthz`, { ca: caOfBin });
      expect(first.pin).toBe(binCerts.pin);

      await binCerts.renew();
      // Unwatched, the renewal alone changes nothing (past the reloader's debounce).
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect((await probeTls(`${url}/healthz`, { ca: caOfBin })).pin).toBe(first.pin);

      const pid = child!.pid!;
      process.kill(pid, 'SIGHUP');
      const signalled = Date.now();
      let served = first.pin;
      while (served !== binCerts.pin && Date.now() - signalled < 20_000) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        served = (await probeTls(`${url}/healthz`, { ca: caOfBin })).pin;
      }
      console.log(`SIGHUP: new certificate served after ${Date.now() - signalled} ms`);
      expect(served).toBe(binCerts.pin);
      expect(child!.exitCode).toBeNull();
      expect(child!.pid).toBe(pid);
      expect(output).toMatch(
        /"code":"tls_reloaded"[^\n]*"trigger":"signal"|"trigger":"signal"[^\n]*"code":"tls_reloaded"/,
      );
    });
  });
});
