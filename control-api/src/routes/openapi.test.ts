import { describe, expect, it } from 'vitest';
import { apiRoutes } from '../app.js';
import { buildOpenApiDocument } from './openapi.js';
import {
  AgentListQuery,
  AuditQuery,
  CreateAgentTokenBody,
  Problem,
  UpdateUserBody,
} from '@cybercorp/protocol';
import type { RouteServices } from './services.js';

// Handlers are never called here: only the route specs feed the document.
const document = buildOpenApiDocument(apiRoutes({} as RouteServices), '0.0.0-test');
type Parameter = { name: string; in: string; schema: Record<string, unknown> };
const parametersOf = (path: string, method: string) =>
  (document.paths[path]?.[method] as { parameters: Parameter[] }).parameters;

describe('buildOpenApiDocument', () => {
  it('inlines the Problem schema, open to extension members', () => {
    const problem = document.components.schemas.Problem as Record<string, unknown>;
    expect(problem.$ref).toBeUndefined();
    expect(problem.$defs).toBeUndefined();
    expect(problem.type).toBe('object');
    expect(problem.additionalProperties).not.toBe(false);
    const withExtension = {
      type: 't',
      title: 't',
      status: 400,
      detail: 'd',
      code: 'c',
      errors: [],
    };
    expect(Problem.parse(withExtension)).toEqual(withExtension);
  });

  it('documents query limits as the bounded integers the API accepts', () => {
    const agentsLimit = parametersOf('/api/v1/agents', 'get').find((p) => p.name === 'limit');
    expect(agentsLimit?.schema).toEqual({ type: 'integer', minimum: 1, maximum: 1000 });
    const auditLimit = parametersOf('/api/v1/audit', 'get').find((p) => p.name === 'limit');
    expect(auditLimit?.schema).toEqual({ type: 'integer', minimum: 1, maximum: 500 });

    expect(AgentListQuery.parse({ limit: '1000' })).toEqual({ limit: 1000 });
    for (const limit of ['0', '1001', '1e2', '0x10', ' 5', '-1', '2.5', ''])
      expect(AgentListQuery.safeParse({ limit }).success, limit).toBe(false);
  });

  it('refuses NUL in free text that reaches PostgreSQL, and says so in the document', () => {
    expect(CreateAgentTokenBody.safeParse({ name: 'a\u0000b' }).success).toBe(false);
    expect(CreateAgentTokenBody.safeParse({ name: 'a b' }).success).toBe(true);
    expect(AuditQuery.safeParse({ actor: '\u0000' }).success).toBe(false);
    const agentId = parametersOf('/api/v1/agents/{agentId}', 'get').find(
      (p) => p.name === 'agentId',
    );
    expect(new RegExp(agentId?.schema.pattern as string, 'u').test('x\u0000')).toBe(false);
  });

  it('documents the startedAt of process actions and the 409 process_changed it can bring', () => {
    const action = document.paths['/api/v1/agents/{agentId}/processes/{pid}/actions']?.post as {
      requestBody: { content: Record<string, { schema: { properties: Record<string, unknown> } }> };
      responses: Record<string, { description: string }>;
    };
    const body = action.requestBody.content['application/json']?.schema;
    expect(body?.properties.startedAt).toMatchObject({ type: 'string', format: 'date-time' });
    expect(action.responses['409']?.description).toContain('process_changed');
  });

  it('documents `at` on the process and window lists, answered from the inventory history', () => {
    for (const list of ['processes', 'windows']) {
      const path = `/api/v1/agents/{agentId}/${list}`;
      expect(parametersOf(path, 'get').find((p) => p.name === 'at')?.schema, list).toMatchObject({
        type: 'string',
        format: 'date-time',
      });
      const answers = (document.paths[path]?.get as { responses: Record<string, unknown> })
        .responses['200'];
      expect(JSON.stringify(answers), list).toContain('"snapshotAt"');
    }
  });

  it('documents the audit filters and refuses filters of another shape', () => {
    const audit = parametersOf('/api/v1/audit', 'get');
    expect(audit.map((p) => p.name)).toEqual([
      'agentId',
      'actor',
      'action',
      'since',
      'until',
      'limit',
      'cursor',
    ]);
    for (const name of ['since', 'until'])
      expect(audit.find((p) => p.name === name)?.schema).toMatchObject({
        type: 'string',
        format: 'date-time',
      });

    const filter = { action: 'process.kill', since: '2026-11-25T10:00:00+01:00' };
    expect(AuditQuery.parse(filter)).toEqual(filter);
    for (const query of [
      { 'actor[]': 'alice' },
      { actor: ['alice', 'bob'] },
      { since: 'notadate' },
      { since: '2026-11-25T10:00:00' },
      { until: '2026-02-30T10:00:00Z' },
      { acton: 'process.kill' },
    ])
      expect(AuditQuery.safeParse(query).success, JSON.stringify(query)).toBe(false);
  });

  it('keeps audit cursors inside PostgreSQL bigint', () => {
    expect(AuditQuery.safeParse({ cursor: '999999999999999999' }).success).toBe(true);
    expect(AuditQuery.safeParse({ cursor: '9999999999999999999' }).success).toBe(false);
  });

  it('documents 429 with Retry-After and the RateLimit headers on every operation', () => {
    for (const [path, methods] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        const tooMany = (
          operation as {
            responses: Record<string, { description: string; headers?: Record<string, unknown> }>;
          }
        ).responses['429'];
        expect(tooMany?.description, `${method} ${path}`).toContain('rate_limited');
        expect(Object.keys(tooMany?.headers ?? {})).toEqual([
          'Retry-After',
          'RateLimit',
          'RateLimit-Policy',
        ]);
      }
    }
    const login = document.paths['/api/v1/auth/login']?.post as {
      responses: Record<string, { description: string }>;
    };
    expect(login.responses['429']?.description).toContain('locked_out');
    expect(Object.keys(document.components.headers)).toEqual([
      'Retry-After',
      'RateLimit',
      'RateLimit-Policy',
    ]);
  });

  it('documents the user administration routes, their permission and the last-admin refusal', () => {
    const user = document.paths['/api/v1/users/{username}'] as Record<
      string,
      { 'x-permission'?: string; responses: Record<string, { description: string }> }
    >;
    expect(Object.keys(user).sort()).toEqual(['delete', 'get', 'patch']);
    for (const method of ['get', 'patch', 'delete'])
      expect(user[method]?.['x-permission'], method).toBe('users:admin');
    expect(user.patch?.responses['409']?.description).toContain('last_admin');
    expect(user.delete?.responses['409']?.description).toContain('last_admin');
    const list = parametersOf('/api/v1/users', 'get');
    expect(list.map((p) => p.name)).toEqual(['limit', 'cursor']);
    expect(list[0]?.schema).toEqual({ type: 'integer', minimum: 1, maximum: 500 });
    const password = document.paths['/api/v1/me/password']?.post as {
      'x-permission'?: string;
      responses: Record<string, { description: string }>;
    };
    expect(password['x-permission']).toBeUndefined();
    expect(password.responses['403']?.description).toContain('wrong_password');

    expect(UpdateUserBody.safeParse({}).success).toBe(true);
    expect(UpdateUserBody.safeParse({ role: 'admin', disabled: false }).success).toBe(true);
    for (const body of [{ role: 'root' }, { password: 'short' }, { username: 'x' }])
      expect(UpdateUserBody.safeParse(body).success, JSON.stringify(body)).toBe(false);
  });
});

describe('the agent token and decommission routes', () => {
  type Operation = {
    'x-permission'?: string;
    requestBody?: { content: Record<string, { schema: { properties: Record<string, unknown> } }> };
    responses: Record<string, { description: string; content?: unknown }>;
  };
  const operation = (path: string, method: string) => document.paths[path]?.[method] as Operation;

  it('are documented for admins only', () => {
    expect(operation('/api/v1/agent-tokens', 'get')['x-permission']).toBe('tokens:admin');
    expect(operation('/api/v1/agent-tokens/{tokenId}', 'delete')['x-permission']).toBe(
      'tokens:admin',
    );
    expect(operation('/api/v1/agents/{agentId}', 'delete')['x-permission']).toBe('agents:admin');
    expect(operation('/api/v1/agents/{agentId}', 'delete').responses['409']?.description).toContain(
      'agent_online',
    );
  });

  it('document maxAgents: a positive integer or "*", 1 by default', () => {
    const body = operation('/api/v1/agent-tokens', 'post').requestBody?.content['application/json'];
    expect(body?.schema.properties.maxAgents).toMatchObject({
      default: 1,
      anyOf: [{ type: 'integer', minimum: 1 }, { const: '*' }],
    });
    expect(CreateAgentTokenBody.parse({ name: 'a' })).toEqual({ name: 'a', maxAgents: 1 });
    expect(CreateAgentTokenBody.parse({ name: 'a', maxAgents: '*' }).maxAgents).toBe('*');
    for (const maxAgents of [0, 1.5, '3', 'all', null])
      expect(CreateAgentTokenBody.safeParse({ name: 'a', maxAgents }).success).toBe(false);
  });

  it('never document a secret or hash in the token list', () => {
    const list = JSON.stringify(operation('/api/v1/agent-tokens', 'get').responses['200']);
    expect(list).toContain('agentIds');
    expect(list).not.toMatch(/"token"|hash/i);
  });
});
