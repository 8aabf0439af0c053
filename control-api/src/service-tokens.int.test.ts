import { CONTROL_CAPABILITY, OPAMP_HTTP_CONTENT_TYPE, OPAMP_PATH } from '@cybercorp/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeAgent } from './test-support/fake-agent.js';
import { ApiClient } from './test-support/rest-client.js';
import { startTestApiWithAdmin, type TestApi } from './test-support/test-api.js';

type Created = { id: string; name: string; role: string; token: string };
type Audit = { items: Record<string, unknown>[] };

let api: TestApi;
let admin: ApiClient;
let read: Created;
let ops: Created;
let agent: FakeAgent;
const logLines: string[] = [];
const writeToStderr = process.stderr.write.bind(process.stderr);

/** A client that calls the way Grafana's plugin proxy does: a service token plus the user header. */
function proxied(token: string, grafanaUser?: string) {
  const client = new ApiClient(api.url, token);
  const headers: Record<string, string> =
    grafanaUser === undefined ? {} : { 'X-Grafana-User': grafanaUser };
  return {
    request: <T = Record<string, unknown>>(method: string, path: string, body?: unknown) =>
      client.request<T>(method, path, body, { headers }),
  };
}

beforeAll(async () => {
  // The API logs JSON lines on stderr; keep them to show that no secret is ever logged.
  process.stderr.write = (chunk: string | Uint8Array, ...rest: unknown[]) => {
    logLines.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return (writeToStderr as (...args: unknown[]) => boolean)(chunk, ...rest);
  };
  ({ api, admin } = await startTestApiWithAdmin({ logLevel: 'info' }));
  const agentToken = await api.createAgentToken('service-token-tests');
  agent = await FakeAgent.start({
    url: api.opampUrl,
    token: agentToken,
    hostname: 'svc-host',
    customCapabilities: [CONTROL_CAPABILITY],
  });
});
afterAll(async () => {
  await agent?.drop().catch(() => undefined);
  await api?.stop();
  process.stderr.write = writeToStderr;
});

describe('service tokens', () => {
  it('are created by an admin, one per role, with the secret shown once', async () => {
    const readReply = await admin.request<Created>('POST', '/api/v1/service-tokens', {
      name: 'grafana-read',
      role: 'viewer',
    });
    expect(readReply.status).toBe(201);
    expect(readReply.body).toMatchObject({ name: 'grafana-read', role: 'viewer' });
    expect(readReply.body.token).toMatch(/^ccs_[A-Za-z0-9_-]{43}$/);
    read = readReply.body;

    const opsReply = await admin.request<Created>('POST', '/api/v1/service-tokens', {
      name: 'ops',
      role: 'operator',
    });
    expect(opsReply.status).toBe(201);
    expect(opsReply.body).toMatchObject({ name: 'ops', role: 'operator', createdBy: 'admin' });
    ops = opsReply.body;

    const duplicate = await admin.request('POST', '/api/v1/service-tokens', {
      name: 'ops',
      role: 'viewer',
    });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.code).toBe('conflict');
  });

  it('never become admin', async () => {
    const reply = await admin.request('POST', '/api/v1/service-tokens', {
      name: 'root',
      role: 'admin',
    });
    expect(reply.status).toBe(400);
    expect(reply.contentType).toContain('application/problem+json');
    expect(reply.body.code).toBe('validation_failed');
  });

  it('are listed without their secrets', async () => {
    const list = await admin.request<{ items: Record<string, unknown>[] }>(
      'GET',
      '/api/v1/service-tokens',
    );
    expect(list.status).toBe(200);
    expect(list.body.items).toEqual([
      {
        id: read.id,
        name: 'grafana-read',
        role: 'viewer',
        createdBy: 'admin',
        createdAt: expect.any(String),
      },
      {
        id: ops.id,
        name: 'ops',
        role: 'operator',
        createdBy: 'admin',
        createdAt: expect.any(String),
      },
    ]);
    const text = JSON.stringify(list.body);
    expect(text).not.toContain(read.token);
    expect(text).not.toContain(ops.token);
    expect(text).not.toContain('ccs_');
  });

  it('let a viewer-level token read but not act, auditing the refusal under the Grafana user', async () => {
    const bob = proxied(read.token, 'bob');
    const agents = await bob.request<{ items: { id: string }[] }>('GET', '/api/v1/agents');
    expect(agents.status).toBe(200);
    expect(agents.body.items.map((a) => a.id)).toContain(agent.instanceUid);
    const processes = await bob.request('GET', `/api/v1/agents/${agent.instanceUid}/processes`);
    expect(processes.status).toBe(200);

    const action = await bob.request(
      'POST',
      `/api/v1/agents/${agent.instanceUid}/processes/4242/actions`,
      { action: 'kill' },
    );
    expect(action.status).toBe(403);
    expect(action.body.code).toBe('forbidden');
    expect(agent.commands.filter((c) => c.type === 'process.signal')).toEqual([]);

    const me = await bob.request('GET', '/api/v1/me');
    expect(me.body).toMatchObject({
      username: 'grafana:bob via service token grafana-read',
      role: 'viewer',
    });
    expect(me.body.permissions).not.toContain('processes:signal');

    const audit = await admin.request<Audit>('GET', `/api/v1/audit?agentId=${agent.instanceUid}`);
    expect(audit.body.items).toContainEqual(
      expect.objectContaining({
        actor: 'grafana:bob via service token grafana-read',
        action: 'process.kill',
        outcome: 'denied',
        errorCode: 'forbidden',
      }),
    );
  });

  it('let an operator-level token act, audited as the Grafana user via the token', async () => {
    const alice = proxied(ops.token, 'alice');
    const action = await alice.request<{ commandId: string; status: string }>(
      'POST',
      `/api/v1/agents/${agent.instanceUid}/processes/4242/actions`,
      { action: 'terminate', reason: 'stuck' },
    );
    expect(action.status).toBe(200);
    expect(action.body.status).toBe('succeeded');
    expect(agent.commands).toContainEqual(
      expect.objectContaining({
        type: 'process.signal',
        pid: 4242,
        action: 'terminate',
        commandId: action.body.commandId,
      }),
    );

    const command = await alice.request('GET', `/api/v1/commands/${action.body.commandId}`);
    expect(command.body).toMatchObject({
      actor: 'grafana:alice via service token ops',
      status: 'succeeded',
    });
    const audit = await admin.request<Audit>('GET', `/api/v1/audit?agentId=${agent.instanceUid}`);
    expect(audit.body.items[0]).toMatchObject({
      actor: 'grafana:alice via service token ops',
      action: 'process.terminate',
      targetId: '4242',
      reason: 'stuck',
      outcome: 'succeeded',
      commandId: action.body.commandId,
    });
  });

  it('name only the token when no Grafana user is given', async () => {
    const me = await proxied(ops.token).request('GET', '/api/v1/me');
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ username: 'service token ops', role: 'operator' });
  });

  it('refuse an invalid Grafana user header with 400, after checking the token', async () => {
    for (const value of ['a'.repeat(101), 'j\u00f6rg']) {
      const reply = await proxied(ops.token, value).request('GET', '/api/v1/agents');
      expect(reply.status).toBe(400);
      expect(reply.contentType).toContain('application/problem+json');
      expect(reply.body).toMatchObject({
        code: 'validation_failed',
        errors: [expect.objectContaining({ in: 'header', path: ['x-grafana-user'] })],
      });
    }
    const unknownToken = await proxied('ccs_not-a-real-token', 'a'.repeat(101)).request(
      'GET',
      '/api/v1/agents',
    );
    expect(unknownToken.status).toBe(401);
    expect(unknownToken.body.code).toBe('unauthorized');
  });

  it('cannot manage tokens or users, and neither can a viewer user', async () => {
    const alice = proxied(ops.token, 'alice');
    for (const [method, path, body] of [
      ['POST', '/api/v1/service-tokens', { name: 'mine', role: 'operator' }],
      ['GET', '/api/v1/service-tokens', undefined],
      ['DELETE', `/api/v1/service-tokens/${read.id}`, undefined],
      ['POST', '/api/v1/users', { username: 'm', password: 'long-enough-pw', role: 'admin' }],
      ['POST', '/api/v1/agent-tokens', { name: 'x' }],
    ] as const) {
      const reply = await alice.request(method, path, body);
      expect(reply.status, `${method} ${path}`).toBe(403);
      expect(reply.body.code).toBe('forbidden');
    }

    const viewer = await admin.userClient('vic', 'viewer');
    const create = await viewer.request('POST', '/api/v1/service-tokens', {
      name: 'sneaky',
      role: 'viewer',
    });
    expect(create.status).toBe(403);
    expect(create.body.code).toBe('forbidden');
    expect((await viewer.request('GET', '/api/v1/service-tokens')).status).toBe(403);
  });

  it('are refused at the OpAMP endpoint on both transports', async () => {
    const ws = await FakeAgent.connect({ url: api.opampUrl, token: ops.token }).then(
      () => 0,
      (error: { status?: number }) => error.status,
    );
    expect(ws).toBe(401);
    const http = await fetch(api.url + OPAMP_PATH, {
      method: 'POST',
      headers: { authorization: `Bearer ${ops.token}`, 'content-type': OPAMP_HTTP_CONTENT_TYPE },
      body: new Uint8Array([0]),
    });
    expect(http.status).toBe(401);
  });

  it('leave agent tokens and user tokens as they were', async () => {
    const agentToken = await api.createAgentToken('still-agent-only');
    const reply = await new ApiClient(api.url, agentToken).request('GET', '/api/v1/agents');
    expect(reply.status).toBe(401);
    // A user JWT ignores the header: the user speaks for itself.
    const me = await admin.request('GET', '/api/v1/me', undefined, {
      headers: { 'X-Grafana-User': 'eve' },
    });
    expect(me.body).toMatchObject({ username: 'admin', role: 'admin' });
  });

  it('stop working once revoked', async () => {
    const before = await proxied(read.token, 'bob').request('GET', '/api/v1/agents');
    expect(before.status).toBe(200);
    const revoke = await admin.request('DELETE', `/api/v1/service-tokens/${read.id}`);
    expect(revoke.status).toBe(204);
    const after = await proxied(read.token, 'bob').request('GET', '/api/v1/agents');
    expect(after.status).toBe(401);
    expect(after.body.code).toBe('unauthorized');

    const again = await admin.request('DELETE', `/api/v1/service-tokens/${read.id}`);
    expect(again.status).toBe(404);
    expect(again.body.code).toBe('not_found');
    const malformed = await admin.request('DELETE', '/api/v1/service-tokens/not-a-uuid');
    expect(malformed.status).toBe(400);

    const list = await admin.request<{ items: { id: string }[] }>('GET', '/api/v1/service-tokens');
    expect(list.body.items.map((t) => t.id)).toEqual([ops.id]);
    const audit = await admin.request<Audit>('GET', '/api/v1/audit?actor=admin');
    expect(audit.body.items.map((e) => [e.action, e.targetId])).toEqual(
      expect.arrayContaining([
        ['service_token.create', read.id],
        ['service_token.create', ops.id],
        ['service_token.revoke', read.id],
      ]),
    );
    // A name is free again once its token is revoked.
    const reused = await admin.request('POST', '/api/v1/service-tokens', {
      name: 'grafana-read',
      role: 'viewer',
    });
    expect(reused.status).toBe(201);
  });

  it('can be created programmatically, e.g. to provision Grafana', async () => {
    const secret = await api.createServiceToken('grafana-act', 'operator');
    expect(secret).toMatch(/^ccs_/);
    const me = await proxied(secret, 'carol').request('GET', '/api/v1/me');
    expect(me.body).toMatchObject({
      username: 'grafana:carol via service token grafana-act',
      role: 'operator',
    });
    const list = await admin.request<{ items: { name: string; createdBy: string }[] }>(
      'GET',
      '/api/v1/service-tokens',
    );
    expect(list.body.items).toContainEqual(
      expect.objectContaining({ name: 'grafana-act', createdBy: 'system' }),
    );
  });

  it('can be found in the audit log by their actor', async () => {
    const actor = 'grafana:alice via service token ops';
    const audit = await admin.request<Audit>(
      'GET',
      `/api/v1/audit?actor=${encodeURIComponent(actor)}`,
    );
    expect(audit.status).toBe(200);
    expect(audit.body.items.length).toBeGreaterThan(0);
    expect(new Set(audit.body.items.map((e) => e.actor))).toEqual(new Set([actor]));
  });

  it('appear in the OpenAPI document', async () => {
    const doc = await new ApiClient(api.url).request<{
      paths: Record<string, Record<string, { 'x-permission'?: string }>>;
    }>('GET', '/api/v1/openapi.json');
    expect(doc.body.paths['/api/v1/service-tokens']?.post?.['x-permission']).toBe('tokens:admin');
    expect(doc.body.paths['/api/v1/service-tokens']?.get?.['x-permission']).toBe('tokens:admin');
    expect(doc.body.paths['/api/v1/service-tokens/{tokenId}']?.delete?.['x-permission']).toBe(
      'tokens:admin',
    );
  });

  it('never log their secrets', () => {
    const logs = logLines.join('');
    expect(logs).toContain('service token created');
    expect(logs).toContain('service token revoked');
    expect(logs).not.toContain(read.token);
    expect(logs).not.toContain(ops.token);
  });
});
