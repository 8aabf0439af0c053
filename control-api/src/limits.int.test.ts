import {
  AgentToServerSchema,
  OPAMP_HTTP_CONTENT_TYPE,
  OPAMP_PATH,
  ServerErrorResponseType,
  create,
  decodeServerToAgent,
  encodeAgentToServer,
} from '@cybercorp/protocol';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeAgent } from './test-support/fake-agent.js';
import type { ApiClient } from './test-support/rest-client.js';
import { startTestApiWithAdmin, type TestApi } from './test-support/test-api.js';

let api: TestApi;
let admin: ApiClient;
let agentToken: string;
let agent: FakeAgent;

beforeAll(async () => {
  ({ api, admin } = await startTestApiWithAdmin());
  agentToken = await api.createAgentToken('limits');
  agent = await FakeAgent.start({ url: api.opampUrl, token: agentToken });
});
afterAll(async () => {
  await agent?.drop().catch(() => undefined);
  await api?.stop();
});

interface OpenApiDocument {
  openapi: string;
  paths: Record<
    string,
    Record<
      string,
      {
        'x-permission'?: string;
        requestBody?: {
          content: Record<string, { schema: { properties: Record<string, { enum?: string[] }> } }>;
        };
      }
    >
  >;
}

const unknownAgent = '0badc0de-0000-4000-8000-000000000000';
const twoMegabytes = JSON.stringify({ username: 'x'.repeat(2 * 1024 * 1024), password: 'y' });

describe('bad input answers 4xx problem+json with a stable code', () => {
  const cases: [
    string,
    string,
    string,
    string | undefined,
    Record<string, string>,
    number,
    string,
  ][] = [
    ['malformed JSON', 'POST', '/api/v1/auth/login', '{"username":', {}, 400, 'malformed_json'],
    ['a 2 MB body', 'POST', '/api/v1/auth/login', twoMegabytes, {}, 413, 'payload_too_large'],
    [
      'a non-JSON content type',
      'POST',
      '/api/v1/auth/login',
      'username=a',
      { 'content-type': 'text/plain' },
      415,
      'unsupported_media_type',
    ],
    [
      'a JSON array for an object',
      'POST',
      '/api/v1/auth/login',
      '[]',
      {},
      400,
      'validation_failed',
    ],
    [
      'a missing field',
      'POST',
      '/api/v1/auth/login',
      '{"username":"a"}',
      {},
      400,
      'validation_failed',
    ],
    [
      'an unknown action',
      'POST',
      '/agents/AGENT/processes/42/actions',
      '{"action":"explode"}',
      {},
      400,
      'unknown_action',
    ],
    [
      'a missing action',
      'POST',
      '/agents/AGENT/processes/42/actions',
      '{"reason":"no action"}',
      {},
      400,
      'validation_failed',
    ],
    [
      'an unknown window action',
      'POST',
      '/agents/AGENT/windows/0x1/actions',
      '{"action":"shake"}',
      {},
      400,
      'unknown_action',
    ],
    [
      'a non-numeric pid',
      'POST',
      '/agents/AGENT/processes/abc/actions',
      '{"action":"kill"}',
      {},
      400,
      'validation_failed',
    ],
    [
      'pid zero',
      'POST',
      '/agents/AGENT/processes/0/actions',
      '{"action":"kill"}',
      {},
      400,
      'validation_failed',
    ],
    [
      'a bad window id',
      'POST',
      '/agents/AGENT/windows/a%20b/actions',
      '{"action":"focus"}',
      {},
      400,
      'validation_failed',
    ],
    [
      'an unknown agent',
      'GET',
      `/api/v1/agents/${unknownAgent}/processes`,
      undefined,
      {},
      404,
      'no_such_agent',
    ],
    [
      'an unknown agent action',
      'POST',
      `/api/v1/agents/${unknownAgent}/processes/42/actions`,
      '{"action":"kill"}',
      {},
      404,
      'no_such_agent',
    ],
    [
      'a non-UUID agent id',
      'GET',
      '/api/v1/agents/not-an-agent',
      undefined,
      {},
      404,
      'no_such_agent',
    ],
    ['an unknown command', 'GET', '/api/v1/commands/nope', undefined, {}, 404, 'no_such_command'],
    [
      'a non-numeric audit limit',
      'GET',
      '/api/v1/audit?limit=ten',
      undefined,
      {},
      400,
      'validation_failed',
    ],
    [
      'a forged audit cursor',
      'GET',
      '/api/v1/audit?cursor=abc',
      undefined,
      {},
      400,
      'validation_failed',
    ],
    ['an unknown route', 'GET', '/api/v1/nothing-here', undefined, {}, 404, 'not_found'],
  ];

  it.each(cases)('%s', async (_name, method, rawPath, body, headers, status, code) => {
    const path = rawPath.startsWith('/agents/AGENT')
      ? `/api/v1${rawPath.replace('AGENT', agent.instanceUid)}`
      : rawPath;
    const reply = await admin.request(method, path, body, { headers });
    expect(reply.status).toBe(status);
    expect(reply.contentType).toContain('application/problem+json');
    expect(reply.body).toMatchObject({
      status,
      code,
      type: expect.any(String),
      title: expect.any(String),
    });
    expect(typeof reply.body.detail).toBe('string');
  });

  it('refuses bad OpAMP HTTP requests with 4xx', async () => {
    const post = (body: Uint8Array, contentType: string) =>
      fetch(api.url + OPAMP_PATH, {
        method: 'POST',
        headers: { authorization: `Bearer ${agentToken}`, 'content-type': contentType },
        body,
      });
    expect((await post(new Uint8Array([0xff, 0xff, 0xff]), OPAMP_HTTP_CONTENT_TYPE)).status).toBe(
      400,
    );
    expect((await post(new Uint8Array([1]), 'application/json')).status).toBe(415);
    const shortUid = encodeAgentToServer(
      create(AgentToServerSchema, { instanceUid: new Uint8Array([1, 2, 3]) }),
    );
    const badUid = await post(shortUid, OPAMP_HTTP_CONTENT_TYPE);
    expect(badUid.status).toBe(400);
    expect(badUid.headers.get('content-type')).toBe(OPAMP_HTTP_CONTENT_TYPE);
    const reply = decodeServerToAgent(new Uint8Array(await badUid.arrayBuffer()));
    expect(reply.errorResponse?.type).toBe(
      ServerErrorResponseType.ServerErrorResponseType_BadRequest,
    );
    expect((await post(new Uint8Array(2 * 1024 * 1024), OPAMP_HTTP_CONTENT_TYPE)).status).toBe(413);
  });
});

describe('WebSocket limits', () => {
  it('closes a connection sending more than 1 MB with 1009 and keeps serving', async () => {
    const big = await FakeAgent.start({ url: api.opampUrl, token: agentToken });
    big.sendRaw(Buffer.alloc(1024 * 1024 + 16));
    expect((await big.closed).code).toBe(1009);
    const health = await fetch(`${api.url}/healthz`);
    expect(health.status).toBe(200);
    expect((await admin.request('GET', `/api/v1/agents/${big.instanceUid}`)).body.online).toBe(
      false,
    );
    // The other agent's connection is unaffected.
    expect((await agent.sendAndWait()).capabilities).toBeGreaterThan(0n);
  });

  it('closes on text frames (1003); answers bytes that are not OpAMP with BAD_REQUEST', async () => {
    const text = new WebSocket(api.opampUrl, {
      headers: { authorization: `Bearer ${agentToken}` },
    });
    await new Promise((resolve) => text.once('open', resolve));
    const textClosed = new Promise<number>((resolve) => text.once('close', resolve));
    text.send('hello');
    expect(await textClosed).toBe(1003);

    const garbage = await FakeAgent.start({ url: api.opampUrl, token: agentToken });
    const before = garbage.replies.length;
    garbage.sendRaw(Buffer.from([0x00, 0xff, 0xff, 0xff]));
    await garbage.until(() => garbage.replies.length > before);
    expect(garbage.replies[before]!.errorResponse?.type).toBe(
      ServerErrorResponseType.ServerErrorResponseType_BadRequest,
    );
    // The connection stays usable, as the spec's Bad Request handling keeps it.
    expect((await garbage.sendAndWait()).errorResponse).toBeUndefined();
    await garbage.drop();
  });

  it('refuses upgrades elsewhere than /v1/opamp', async () => {
    const refusal = await FakeAgent.connect({
      url: `${api.url.replace('http', 'ws')}/elsewhere`,
      token: agentToken,
    }).then(
      () => 0,
      (error: { status?: number }) => error.status,
    );
    expect(refusal).toBe(404);
  });
});

describe('operational endpoints', () => {
  it('serves an OpenAPI 3.1 document generated from the request schemas', async () => {
    const doc = (await admin.request<OpenApiDocument>('GET', '/api/v1/openapi.json')).body;
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/auth/login',
        '/api/v1/auth/refresh',
        '/api/v1/auth/logout',
        '/api/v1/me',
        '/api/v1/users',
        '/api/v1/agent-tokens',
        '/api/v1/agents',
        '/api/v1/agents/{agentId}',
        '/api/v1/agents/{agentId}/processes',
        '/api/v1/agents/{agentId}/processes/{pid}/actions',
        '/api/v1/agents/{agentId}/windows',
        '/api/v1/agents/{agentId}/windows/{windowId}/actions',
        '/api/v1/commands/{commandId}',
        '/api/v1/audit',
      ]),
    );
    const action = doc.paths['/api/v1/agents/{agentId}/processes/{pid}/actions']!.post!;
    expect(action['x-permission']).toBe('processes:signal');
    expect(action.requestBody?.content['application/json']?.schema.properties.action?.enum).toEqual(
      ['terminate', 'kill', 'suspend', 'resume'],
    );
  });

  it('reports readiness and labels request metrics with route patterns', async () => {
    const ready = await fetch(`${api.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { database: 'ok' } });
    const metrics = await (await fetch(`${api.url}/metrics`)).text();
    expect(metrics).toContain(
      'cybercorp_http_requests_total{method="GET",route="/api/v1/agents/:agentId",status="404"}',
    );
    expect(metrics).not.toContain(unknownAgent);
  });
});
