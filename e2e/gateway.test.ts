/**
 * Must-hold 3 of issue 11: the real nginx on the project's gateway configuration in front of two
 * real API instances (one PostgreSQL, a real redis-server), both serving TLS. Through the
 * gateway: HTTP/2 and gzip seen by the client, TLS 1.2 refused, the OpAMP upgrade and plain-HTTP
 * POST work, /metrics is not reachable, the API sees the client's address, requests spread over
 * both instances, the edge limit answers 429 problem+json, and the access log is JSON without
 * secrets.
 */
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import {
  HEARTBEAT_INTERVAL_SECONDS,
  AgentToServerSchema,
  OPAMP_HTTP_CONTENT_TYPE,
  create,
  decodeServerToAgent,
  encodeAgentToServer,
  instanceUidFromString,
  instanceUidToString,
} from '@cybercorp/protocol';
import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDevCerts, type DevCerts } from '../control-api/src/test-support/dev-certs.js';
import {
  FAKE_AGENT_CAPABILITIES,
  FakeAgent,
  PROCESS_FIXTURE,
} from '../control-api/src/test-support/fake-agent.js';
import { otlpJson } from '../control-api/src/test-support/otlp-exports.js';
import { ADMIN, TEST_RATE_LIMIT_PER_MINUTE } from '../control-api/src/test-support/test-api.js';
import { probeTls } from '../control-api/src/test-support/tls-probe.js';
import {
  startTwoInstances,
  type TwoInstances,
} from '../control-api/src/test-support/two-instances.js';
import { GATEWAY_DIR, H2Client, startGateway, type Gateway } from './support/gateway.js';
import { freePort } from './support/processes.js';

/** The address the gateway connects to the instances from: the only one they trust. */
const GATEWAY_SOURCE = '127.0.0.10';

let certs: DevCerts;
let ca: Buffer;
let instances: TwoInstances;
let gateway: Gateway;
let client: H2Client;
let adminToken: string;
const clients: H2Client[] = [];

/** An HTTP/2 client of the gateway from `localAddress`, closed after the tests. */
async function clientFrom(localAddress: string): Promise<H2Client> {
  const opened = await H2Client.connect(gateway.url, { ca, localAddress });
  clients.push(opened);
  return opened;
}

beforeAll(async () => {
  certs = await makeDevCerts();
  ca = await readFile(certs.caFile);
  instances = await startTwoInstances({
    tlsCertFile: certs.certFile,
    tlsKeyFile: certs.keyFile,
    trustedProxies: [GATEWAY_SOURCE],
    // Both instances (the second would take the default of 100): the edge limit is under test.
    rateLimitPerMinute: TEST_RATE_LIMIT_PER_MINUTE,
  });
  gateway = await startGateway({
    upstreams: [instances.first, instances.second],
    certs,
    bindAddress: GATEWAY_SOURCE,
  });
  client = await clientFrom('127.0.0.1');
  const login = await client.request('POST', '/api/v1/auth/login', { json: ADMIN });
  expect(login.status).toBe(200);
  adminToken = login.json<{ accessToken: string }>().accessToken;
});

afterAll(async () => {
  for (const opened of clients) await opened.close();
  await gateway?.stop();
  await instances?.stop();
  await certs?.remove();
});

describe('the gateway in front of two API instances', () => {
  it('speaks HTTP/2 over TLS 1.3 and refuses a client limited to TLS 1.2', async () => {
    expect(client.alpnProtocol).toBe('h2');
    const health = await client.request('GET', '/healthz');
    expect(health.status).toBe(200);
    expect(health.json()).toEqual({ status: 'ok' });

    const probe = await probeTls(`${gateway.url}/healthz`, { ca });
    expect(probe.protocol).toBe('TLSv1.3');
    expect(probe.pin).toBe(certs.pin);
    await expect(probeTls(`${gateway.url}/healthz`, { ca, maxVersion: 'TLSv1.2' })).rejects.toThrow(
      /protocol version|alert/i,
    );
  });

  it('gzips JSON for the client', async () => {
    const reply = await client.request('GET', '/api/v1/openapi.json');
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toMatch(/^application\/json/);
    expect(reply.headers['content-encoding']).toBe('gzip');
    expect(reply.raw.length).toBeLessThan(reply.body.length);
    expect(reply.json()).toHaveProperty('openapi');
  });

  it('passes the OpAMP WebSocket upgrade on (wss), and a command reaches the agent', async () => {
    const token = await instances.first.createAgentToken('gateway-agent');
    const agent = await FakeAgent.start({ url: gateway.opampUrl, token, ca });
    try {
      expect(agent.replies[0]?.instanceUid).toBeDefined();
      const processes = await client.request(
        'GET',
        `/api/v1/agents/${agent.instanceUid}/processes`,
        { headers: { authorization: `Bearer ${adminToken}` } },
      );
      expect(processes.status).toBe(200);
      expect(processes.json()).toEqual({ items: PROCESS_FIXTURE });
    } finally {
      await agent.disconnect();
    }
  });

  it('keeps a quiet OpAMP socket open longer than two heartbeats', async () => {
    // Waiting out the timeouts would take minutes: the shipped values are read instead.
    const config = await readFile(join(GATEWAY_DIR, 'nginx.conf'), 'utf8');
    const opamp = /location = \/v1\/opamp \{([^}]*)\}/.exec(config)?.[1] ?? '';
    for (const directive of ['proxy_read_timeout', 'proxy_send_timeout']) {
      const seconds = Number(new RegExp(`${directive} (\\d+)s;`).exec(opamp)?.[1]);
      expect(seconds, directive).toBeGreaterThan(2 * HEARTBEAT_INTERVAL_SECONDS);
    }
  });

  it('passes a plain-HTTP OpAMP POST on', async () => {
    const token = await instances.first.createAgentToken('gateway-http-agent');
    const uid = randomUUID();
    const message = create(AgentToServerSchema, {
      instanceUid: instanceUidFromString(uid),
      sequenceNum: 0n,
      capabilities: FAKE_AGENT_CAPABILITIES,
    });
    const reply = await client.request('POST', '/v1/opamp', {
      headers: { authorization: `Bearer ${token}`, 'content-type': OPAMP_HTTP_CONTENT_TYPE },
      body: encodeAgentToServer(message),
    });
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe(OPAMP_HTTP_CONTENT_TYPE);
    expect(instanceUidToString(decodeServerToAgent(reply.body).instanceUid)).toBe(uid);
  });

  it("passes the Collector's gzip OTLP export on to the history ingest", async () => {
    const token = await instances.first.createServiceToken('gateway-collector', 'ingest');
    const exportRequest = otlpJson({ 'host.name': 'gw-host' }, [
      {
        name: 'system.memory.usage',
        kind: 'sum',
        points: [{ timeMs: Date.now(), value: 1, asInt: true }],
      },
    ]);
    const reply = await client.request('POST', '/v1/metrics', {
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        'content-encoding': 'gzip',
      },
      body: gzipSync(JSON.stringify(exportRequest)),
    });
    expect(reply.status).toBe(200);
    expect(reply.json()).toEqual({});
    const refused = await client.request('POST', '/v1/metrics', {
      headers: { 'content-type': 'application/json' },
      body: Buffer.from('{}'),
    });
    expect(refused.status).toBe(401);
  });

  it('does not expose /metrics, which the API itself serves', async () => {
    const direct = await probeTls(`${instances.first.url}/metrics`, { ca });
    expect(direct.status).toBe(200);
    expect(direct.body).toContain('# TYPE');

    for (const path of ['/metrics', '/metrics/', '/api/../metrics', '/anything-else']) {
      const reply = await client.request('GET', path);
      expect(reply.status, path).toBe(404);
      expect(reply.headers['content-type']).toBe('application/problem+json');
      expect(reply.json(), path).toMatchObject({ status: 404, code: 'not_found' });
      expect(reply.body.toString(), path).not.toContain('# TYPE');
    }
  });

  it('refuses a body over the OpAMP message limit with 413 problem+json', async () => {
    const reply = await client.request('POST', '/v1/opamp', {
      headers: { 'content-type': OPAMP_HTTP_CONTENT_TYPE },
      body: Buffer.alloc(1024 * 1024 + 1),
    });
    expect(reply.status).toBe(413);
    expect(reply.headers['content-type']).toBe('application/problem+json');
    expect(reply.json()).toMatchObject({ status: 413, code: 'payload_too_large' });
  });

  it("lets the API see the client's address, not the gateway's nor a forged one", async () => {
    // The login lockout counts per (username, address): five wrong passwords from one client
    // lock that client out, while another client logs in.
    const guesser = await clientFrom('127.0.0.2');
    const forged = { 'x-forwarded-for': '127.0.0.3' };
    const guess = () =>
      guesser.request('POST', '/api/v1/auth/login', {
        json: { username: ADMIN.username, password: 'not-the-password' },
        headers: forged,
      });
    for (let attempt = 0; attempt < 5; attempt++) {
      const reply = await guess();
      expect(reply.status).toBe(401);
      expect(reply.json()).toMatchObject({ code: 'invalid_credentials' });
    }
    const locked = await guess();
    expect(locked.status).toBe(429);
    expect(locked.json()).toMatchObject({ code: 'locked_out' });

    const other = await clientFrom('127.0.0.3');
    const login = await other.request('POST', '/api/v1/auth/login', { json: ADMIN });
    expect(login.status).toBe(200);

    const logged = (await gateway.accessLog()).filter((e) => e.path === '/api/v1/auth/login');
    expect(logged.filter((e) => e.client === '127.0.0.2')).toHaveLength(6);
    expect(logged.filter((e) => e.client === '127.0.0.3').map((e) => e.status)).toEqual([200]);
  });

  it('spreads requests over both instances', async () => {
    const before = (await gateway.accessLog()).length;
    for (let i = 0; i < 10; i++) expect((await client.request('GET', '/readyz')).status).toBe(200);
    const served = (await gateway.accessLog()).slice(before).filter((e) => e.path === '/readyz');
    expect(served).toHaveLength(10);
    const counts = new Map<string, number>();
    for (const entry of served) counts.set(entry.upstream, (counts.get(entry.upstream) ?? 0) + 1);
    expect([...counts.keys()].sort()).toEqual([...gateway.upstreams].sort());
    console.log('requests per instance:', Object.fromEntries(counts));
  });

  it('answers a flood from one address with 429 rate_limited problem+json at the edge', async () => {
    const flooder = await clientFrom('127.0.0.5');
    const replies = await Promise.all(
      Array.from({ length: 300 }, () => flooder.request('GET', '/api/v1/me')),
    );
    const limited = replies.filter((r) => r.status === 429);
    const passed = replies.filter((r) => r.status === 401);
    console.log(`edge limit: ${passed.length} passed, ${limited.length} refused of 300`);
    expect(passed.length + limited.length).toBe(300);
    expect(passed.length).toBeGreaterThan(0);
    expect(limited.length).toBeGreaterThan(0);
    for (const reply of limited) {
      expect(reply.headers['content-type']).toBe('application/problem+json');
      expect(reply.headers['retry-after']).toBe('1');
      expect(reply.json()).toMatchObject({ status: 429, code: 'rate_limited' });
    }
    // The gateway answered them itself: no instance saw them.
    const refusedAtEdge = (await gateway.accessLog()).filter(
      (e) => e.client === '127.0.0.5' && e.status === 429,
    );
    expect(refusedAtEdge).toHaveLength(limited.length);
    for (const entry of refusedAtEdge) expect(entry.upstream).toBe('');
    // Another client is not held back by it.
    expect((await client.request('GET', '/healthz')).status).toBe(200);
  });

  it('logs every request as one JSON object, without tokens, cookies or query strings', async () => {
    const secrets = {
      bearer: `secret-bearer-${randomUUID()}`,
      cookie: `secret-cookie-${randomUUID()}`,
      query: `secret-query-${randomUUID()}`,
    };
    const reply = await client.request('GET', `/api/v1/agents?cursor=${secrets.query}`, {
      headers: { authorization: `Bearer ${secrets.bearer}`, cookie: `session=${secrets.cookie}` },
    });
    expect(reply.status).toBe(401);

    const text = await gateway.accessLogText();
    const entries = await gateway.accessLog();
    expect(entries.length).toBe(text.trim().split('\n').length);
    const entry = entries.find((e) => e.path === '/api/v1/agents');
    expect(entry).toMatchObject({
      method: 'GET',
      status: 401,
      client: '127.0.0.1',
      protocol: 'HTTP/2.0',
      tls: 'TLSv1.3',
    });
    expect(entry?.request_id).toMatch(/^[0-9a-f]{32}$/);
    for (const secret of [...Object.values(secrets), adminToken, ADMIN.password]) {
      expect(text).not.toContain(secret);
    }
  });
});

describe('the gateway with a failing upstream beside a live one', () => {
  /** A gateway in front of the first instance and `other`, its access log from `client`. */
  async function gatewayWith(other: string) {
    const live = new URL(instances.first.url).host;
    const beside = await startGateway({ upstreams: [instances.first.url, other], certs });
    const h2 = await H2Client.connect(beside.url, { ca });
    return { live, beside, h2 };
  }
  // A new username each time, so that the login lockout never answers instead.
  const wrongLogin = () => ({
    json: { username: `nobody-${randomUUID().slice(0, 8)}`, password: 'not-a-password' },
  });

  it('moves requests off an instance that refuses connections, POSTs included, and then skips it', async () => {
    const dead = `127.0.0.1:${await freePort()}`;
    const { live, beside, h2 } = await gatewayWith(`https://${dead}`);
    try {
      for (let i = 0; i < 8; i++) {
        const reply = await h2.request('POST', '/api/v1/auth/login', wrongLogin());
        expect(reply.status).toBe(401);
      }
      const tried = (await beside.accessLog()).map((e) => e.upstream);
      // Refused connections: nothing was sent, so even a POST goes on to the next instance...
      expect(tried).toContain(`${dead}, ${live}`);
      // ...until max_fails marks the instance down for fail_timeout: then it is not tried.
      expect(tried.slice(-2)).toEqual([live, live]);
    } finally {
      await h2.close();
      await beside.stop();
    }
  });

  it('never passes on a POST an instance received, while a GET moves to the live one', async () => {
    // An instance that takes the request and drops the connection without answering.
    const dropper: TlsServer = createTlsServer(
      { cert: await readFile(certs.certFile), key: await readFile(certs.keyFile) },
      (socket) => socket.once('data', () => socket.destroy()),
    );
    await new Promise<void>((done) => dropper.listen(0, '127.0.0.1', done));
    const dropping = `127.0.0.1:${(dropper.address() as AddressInfo).port}`;
    const { live, beside, h2 } = await gatewayWith(`https://${dropping}`);
    try {
      // Round-robin alternates, so each pair has one request for each instance (max_fails=3
      // leaves the dropper in the rotation for the first four).
      const replies = [];
      for (const method of ['POST', 'POST', 'GET', 'GET']) {
        const path = method === 'POST' ? '/api/v1/auth/login' : '/api/v1/openapi.json';
        replies.push(await h2.request(method, path, method === 'POST' ? wrongLogin() : {}));
      }
      const log = await beside.accessLog();
      const posts = log.filter((e) => e.method === 'POST');
      const gets = log.filter((e) => e.method === 'GET');
      expect(posts.map((e) => [e.upstream, e.status]).sort()).toEqual(
        [
          [dropping, 503],
          [live, 401],
        ].sort(),
      );
      expect(gets.map((e) => e.status)).toEqual([200, 200]);
      expect(gets.map((e) => e.upstream)).toContain(`${dropping}, ${live}`);
      const refused = replies.find((r) => r.status === 503);
      expect(refused?.headers['content-type']).toBe('application/problem+json');
      expect(refused?.json()).toMatchObject({ code: 'service_unavailable' });
    } finally {
      await h2.close();
      await beside.stop();
      dropper.close();
    }
  });
});
