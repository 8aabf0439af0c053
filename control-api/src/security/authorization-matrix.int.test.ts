/**
 * The authorization matrix, generated from the API's own OpenAPI document: every operation it
 * lists × every kind of caller, against the real API. What each caller may do follows from the
 * operation's declared access (`security: []` = public, `x-permission` = the permission it
 * needs, neither = any authenticated caller) and the one role → permission table. A route added
 * later is in the matrix without touching this file.
 *
 * Cells must not disturb each other: a DELETE, PATCH or PUT acts only on a resource created for
 * that cell (or on one that does not exist), and process and window actions go to a fake agent,
 * so no process on this machine is ever signalled.
 */
import { randomUUID } from 'node:crypto';
import { CONTROL_CAPABILITY, WINDOWS_CAPABILITY } from '@cybercorp/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PERMISSION_ROLES, type Permission, type Role } from '../auth/permissions.js';
import { FakeAgent, PROCESS_FIXTURE, WINDOW_FIXTURE } from '../test-support/fake-agent.js';
import { compactJws, hmacWith } from '../test-support/jwt-forge.js';
import { ApiClient, type JsonObject, type TokenPair } from '../test-support/rest-client.js';
import { ADMIN, startTestApiWithAdmin, type TestApi } from '../test-support/test-api.js';

// The matrix sends a few hundred requests at machine speed, one principal per caller: test
// instances must run with a REST rate limit far above the production default of 100 a minute
// (RATE_LIMIT_PER_MINUTE), as startTestApi's defaults do.

type Schema = Record<string, unknown>;
type Access = 'public' | 'authenticated' | Permission;

interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  schema: Schema;
}

interface Operation {
  method: string;
  /** The OpenAPI path template, e.g. `/api/v1/agents/{agentId}`. */
  path: string;
  access: Access;
  /** `x-users-only`: service tokens are refused even where their role would do. */
  usersOnly: boolean;
  parameters: Parameter[];
  bodySchema: Schema | undefined;
}

interface Caller {
  name: string;
  token: string | undefined;
  /** The role the caller acts with; none for callers that are not authenticated. */
  role: Role | undefined;
  /** The user behind the caller, for routes that need a session of its own. */
  user?: { username: string; password: string };
  /** A service token acting for Grafana users rather than a signed-in user. */
  service?: true;
}

type Expected = 'allowed' | 'unauthenticated' | 'forbidden';

interface Cell {
  operation: Operation;
  caller: Caller;
  expected: Expected;
  status: number;
  contentType: string;
  code: unknown;
}

const METHODS = ['get', 'put', 'post', 'patch', 'delete'] as const;
/** Methods that change the resource a path names: they get a resource of their own per cell. */
const MUTATING = new Set(['put', 'patch', 'delete']);
/** Operations that end the caller's session: run after every other cell. */
const SESSION_ENDING = new Set(['POST /api/v1/auth/logout']);
/**
 * The operations of today, each of which answers its allowed callers with a 2xx: proof that the
 * matrix reaches the handlers, not only the permission check. Routes added later need only pass
 * the permission check; add them here once the matrix fills their requests well.
 */
const SUCCEEDS_WHEN_ALLOWED = [
  'POST /api/v1/auth/login',
  'POST /api/v1/auth/refresh',
  'POST /api/v1/auth/logout',
  'GET /api/v1/me',
  'POST /api/v1/users',
  'POST /api/v1/agent-tokens',
  'POST /api/v1/service-tokens',
  'GET /api/v1/service-tokens',
  'DELETE /api/v1/service-tokens/{tokenId}',
  'GET /api/v1/agents',
  'GET /api/v1/agents/{agentId}',
  'GET /api/v1/agents/{agentId}/processes',
  'POST /api/v1/agents/{agentId}/processes/{pid}/actions',
  'GET /api/v1/agents/{agentId}/windows',
  'POST /api/v1/agents/{agentId}/windows/{windowId}/actions',
  'GET /api/v1/commands/{commandId}',
  'GET /api/v1/audit',
];

const API_PREFIX = '/api/v1';

const keyOf = (operation: Pick<Operation, 'method' | 'path'>) =>
  `${operation.method.toUpperCase()} ${operation.path}`;

let api: TestApi;
let admin: ApiClient;
let agent: FakeAgent;
let operations: Operation[];
let callers: Caller[];
/** Path parameter values every cell may use: they name things no cell changes. */
let shared: Record<string, string>;
const cells: Cell[] = [];

beforeAll(async () => {
  ({ api, admin } = await startTestApiWithAdmin());

  const document = await new ApiClient(api.url).request('GET', '/api/v1/openapi.json');
  expect(document.status).toBe(200);
  operations = operationsOf(document.body);

  const agentToken = await api.createAgentToken('matrix-agent');
  agent = await FakeAgent.start({
    url: api.opampUrl,
    token: agentToken,
    hostname: 'matrix-host',
    customCapabilities: [CONTROL_CAPABILITY, WINDOWS_CAPABILITY],
  });
  callers = [
    { name: 'anonymous', token: undefined, role: undefined },
    await userCaller('viewer'),
    await userCaller('operator'),
    {
      name: 'admin',
      token: admin.accessToken,
      role: 'admin',
      user: { username: ADMIN.username, password: ADMIN.password },
    },
    {
      name: 'service viewer',
      token: await api.createServiceToken('matrix-viewer', 'viewer'),
      role: 'viewer',
      service: true,
    },
    {
      name: 'service operator',
      token: await api.createServiceToken('matrix-operator', 'operator'),
      role: 'operator',
      service: true,
    },
    { name: 'agent token', token: agentToken, role: undefined },
    {
      name: 'forged token',
      token: compactJws(
        { alg: 'HS256', typ: 'access+jwt', kid: 'matrix' },
        { sub: randomUUID(), username: 'admin', role: 'admin' },
        hmacWith('sha256', new TextEncoder().encode('not the API key, but 32 bytes long')),
      ),
      role: undefined,
    },
  ];

  // A command to look up, made by a harmless action on the fake agent's made-up process.
  const pid = String(PROCESS_FIXTURE[0]!.pid);
  const action = await admin.request(
    'POST',
    `/api/v1/agents/${agent.instanceUid}/processes/${pid}/actions`,
    { action: 'resume', reason: 'authorization matrix setup' },
  );
  expect(action.status).toBe(200);
  const serviceToken = await admin.request('POST', '/api/v1/service-tokens', {
    name: 'matrix-shared',
    role: 'viewer',
  });
  expect(serviceToken.status).toBe(201);
  const target = await admin.request('POST', '/api/v1/users', {
    username: 'matrix-target',
    password: 'matrix-target-password',
    role: 'viewer',
  });
  expect(target.status).toBe(201);
  shared = {
    agentId: agent.instanceUid,
    // The fake agent's process list: it answers actions on it and signals nothing.
    pid,
    windowId: WINDOW_FIXTURE[0]!.id,
    commandId: String(action.body.commandId),
    tokenId: String(serviceToken.body.id),
    username: 'matrix-target',
  };

  for (const operation of inRunOrder(operations)) {
    for (const caller of callers) cells.push(await runCell(operation, caller));
  }
});
afterAll(async () => {
  await agent?.drop().catch(() => undefined);
  await api?.stop();
});

describe('the authorization matrix (OpenAPI operations × callers)', () => {
  it('covers every operation the document lists, each with a known access rule', () => {
    expect(operations.length).toBeGreaterThanOrEqual(SUCCEEDS_WHEN_ALLOWED.length);
    expect(operations.map(keyOf)).toEqual(expect.arrayContaining(SUCCEEDS_WHEN_ALLOWED));
    for (const operation of operations) {
      const { access } = operation;
      if (access === 'public' || access === 'authenticated') continue;
      expect(Object.keys(PERMISSION_ROLES), `${keyOf(operation)} x-permission`).toContain(access);
    }
    expect(cells).toHaveLength(operations.length * callers.length);
  });

  it('lets allowed callers through and refuses the others with exactly 401 or 403', () => {
    const wrong = cells
      .filter((cell) => !matches(cell))
      .map(
        (c) =>
          `${c.caller.name}: ${keyOf(c.operation)} → ${c.status} ${String(c.code)}, expected ${c.expected}`,
      );
    expect(wrong).toEqual([]);
  });

  it('answers every 4xx with problem+json', () => {
    const wrong = cells
      .filter((c) => c.status >= 400 && c.status < 500)
      .filter(
        (c) => !c.contentType.includes('application/problem+json') || typeof c.code !== 'string',
      )
      .map((c) => `${c.caller.name}: ${keyOf(c.operation)} → ${c.status} ${c.contentType}`);
    expect(wrong).toEqual([]);
  });

  it("reaches the handlers: today's operations succeed for their allowed callers", () => {
    const wrong = cells
      .filter((c) => c.expected === 'allowed' && SUCCEEDS_WHEN_ALLOWED.includes(keyOf(c.operation)))
      .filter((c) => c.status < 200 || c.status >= 300)
      .map((c) => `${c.caller.name}: ${keyOf(c.operation)} → ${c.status} ${String(c.code)}`);
    expect(wrong).toEqual([]);
  });
});

describe('other spellings of the same routes', () => {
  it('never let an anonymous caller through: each answers 401 or 404, as problem+json', async () => {
    const wrong: string[] = [];
    for (const operation of operations.filter((o) => o.access !== 'public')) {
      // Values that name nothing: should a spelling slip past the check, it changes nothing.
      const path = await pathOf(operation, (p) =>
        Promise.resolve(
          MUTATING.has(operation.method)
            ? String(exampleOf(p.schema, p.name))
            : (shared[p.name] ?? String(exampleOf(p.schema, p.name))),
        ),
      );
      const rest = path.slice(API_PREFIX.length);
      const variants: [string, string][] = [
        [operation.method.toUpperCase(), path.toUpperCase()],
        [operation.method.toUpperCase(), `${path}/`],
        [operation.method.toUpperCase(), `${API_PREFIX}/${rest}`],
        [
          operation.method.toUpperCase(),
          `${API_PREFIX}/%${rest.charCodeAt(1).toString(16)}${rest.slice(2)}`,
        ],
        [operation.method.toUpperCase(), `${path};admin=true`],
        ...(operation.method === 'get' ? [['HEAD', path] as [string, string]] : []),
      ];
      for (const [method, variant] of variants) {
        const reply = await new ApiClient(api.url).request(method, variant, bodyFor(operation));
        const problem = method === 'HEAD' || reply.contentType.includes('application/problem+json');
        if ((reply.status !== 401 && reply.status !== 404) || !problem) {
          wrong.push(`${method} ${variant} → ${reply.status} ${reply.contentType}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });
});

function bodyFor(operation: Operation): unknown {
  return operation.bodySchema ? exampleOf(operation.bodySchema, 'body') : undefined;
}

function operationsOf(document: JsonObject): Operation[] {
  const paths = document.paths as Record<string, Record<string, Schema>>;
  const found: Operation[] = [];
  for (const [path, item] of Object.entries(paths)) {
    for (const method of METHODS) {
      const operation = item[method];
      if (!operation) continue;
      const security = operation.security as unknown[] | undefined;
      const permission = operation['x-permission'] as Permission | undefined;
      const content = (operation.requestBody as { content?: Record<string, { schema?: Schema }> })
        ?.content;
      found.push({
        method,
        path,
        access:
          Array.isArray(security) && security.length === 0
            ? 'public'
            : (permission ?? 'authenticated'),
        usersOnly: operation['x-users-only'] === true,
        parameters: (operation.parameters as Parameter[] | undefined) ?? [],
        bodySchema: content?.['application/json']?.schema,
      });
    }
  }
  return found;
}

/** Reads, then creations, then changes, then whatever ends a session. */
function inRunOrder(list: readonly Operation[]): Operation[] {
  const rank = (o: Operation) =>
    SESSION_ENDING.has(keyOf(o)) ? 3 : MUTATING.has(o.method) ? 2 : o.method === 'get' ? 0 : 1;
  return [...list].sort((a, b) => rank(a) - rank(b));
}

function expectedFor(caller: Caller, { access, usersOnly }: Operation): Expected {
  if (access === 'public') return 'allowed';
  if (!caller.role) return 'unauthenticated';
  if (usersOnly && caller.service) return 'forbidden';
  if (access === 'authenticated') return 'allowed';
  return (PERMISSION_ROLES[access] as readonly Role[]).includes(caller.role)
    ? 'allowed'
    : 'forbidden';
}

function matches(cell: Cell): boolean {
  switch (cell.expected) {
    case 'allowed':
      // A 403 with a code of its own (e.g. wrong_password) comes from the handler, past the
      // permission check; 401 and 403 `forbidden` are the refusals this matrix is about.
      return (
        cell.status !== 401 &&
        !(cell.status === 403 && cell.code === 'forbidden') &&
        cell.status < 500
      );
    case 'unauthenticated':
      return cell.status === 401 && cell.code === 'unauthorized';
    case 'forbidden':
      return cell.status === 403 && cell.code === 'forbidden';
  }
}

async function userCaller(role: 'viewer' | 'operator'): Promise<Caller> {
  const username = `matrix-${role}`;
  const client = await admin.userClient(username, role);
  // userClient's password rule, needed again for sessions of the caller's own.
  return {
    name: role,
    token: client.accessToken,
    role,
    user: { username, password: `${username}-password-123` },
  };
}

async function freshSession(user: { username: string; password: string }): Promise<TokenPair> {
  return new ApiClient(api.url).login(user.username, user.password);
}

/**
 * What the route needs to succeed that a schema cannot tell: real credentials, a live refresh
 * token, and for logout a session of the caller's own (logging out must not end the session
 * the caller's other cells use).
 */
const REQUESTS: Record<string, (caller: Caller) => Promise<{ body: unknown; token?: string }>> = {
  'POST /api/v1/auth/login': () => Promise.resolve({ body: ADMIN }),
  'POST /api/v1/auth/refresh': async () => ({
    body: { refreshToken: (await freshSession(ADMIN)).refreshToken },
  }),
  'POST /api/v1/auth/logout': async (caller) => {
    if (!caller.user) return { body: { refreshToken: `ccr_${'A'.repeat(43)}` } };
    const session = await freshSession(caller.user);
    return { body: { refreshToken: session.refreshToken }, token: session.accessToken };
  },
};

async function runCell(operation: Operation, caller: Caller): Promise<Cell> {
  const pathParameters = operation.parameters.filter((p) => p.in === 'path');
  const own = MUTATING.has(operation.method) ? pathParameters.at(-1) : undefined;
  const path = await pathOf(operation, (parameter) =>
    parameter === own
      ? ownResource(operation, parameter)
      : Promise.resolve(
          shared[parameter.name] ?? String(exampleOf(parameter.schema, parameter.name)),
        ),
  );
  const special = await REQUESTS[keyOf(operation)]?.(caller);
  const body = special?.body ?? bodyFor(operation);
  const token = special?.token ?? caller.token;
  const reply = await new ApiClient(api.url, token).request(
    operation.method.toUpperCase(),
    path,
    body,
  );
  return {
    operation,
    caller,
    expected: expectedFor(caller, operation),
    status: reply.status,
    contentType: reply.contentType,
    code: typeof reply.body === 'object' ? reply.body.code : undefined,
  };
}

/** The operation's path with its parameters filled, and required query parameters added. */
async function pathOf(
  operation: Operation,
  valueOf: (parameter: Parameter) => Promise<string>,
): Promise<string> {
  let path = operation.path;
  for (const parameter of operation.parameters.filter((p) => p.in === 'path')) {
    path = path.replace(`{${parameter.name}}`, encodeURIComponent(await valueOf(parameter)));
  }
  const query = operation.parameters
    .filter((p) => p.in === 'query' && p.required)
    .map((p) => `${p.name}=${encodeURIComponent(String(exampleOf(p.schema, p.name)))}`);
  return query.length > 0 ? `${path}?${query.join('&')}` : path;
}

/**
 * A resource only this cell acts on: created by an admin through the collection's POST when the
 * document has one, else a value that names nothing.
 */
async function ownResource(operation: Operation, parameter: Parameter): Promise<string> {
  const collection = operation.path.slice(0, operation.path.lastIndexOf(`/{${parameter.name}}`));
  const create = operations.find((o) => o.method === 'post' && o.path === collection);
  if (!create?.bodySchema || collection.includes('{')) {
    return String(exampleOf(parameter.schema, parameter.name));
  }
  const created = await admin.request('POST', collection, exampleOf(create.bodySchema, 'own'));
  if (created.status !== 200 && created.status !== 201) {
    throw new Error(`cannot create a resource at ${collection}: ${created.status}`);
  }
  const value = created.body[parameter.name] ?? created.body.id;
  if (typeof value !== 'string') throw new Error(`${collection} answered no ${parameter.name}`);
  return value;
}

let serial = 0;

/** A plausible value for a JSON schema: required properties only, the first enum value. */
function exampleOf(schema: Schema, hint: string): unknown {
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum)) return schema.enum[0];
  const union = (schema.anyOf ?? schema.oneOf) as Schema[] | undefined;
  if (union) return exampleOf(union.find((s) => s.type !== 'null') ?? union[0] ?? {}, hint);
  if (Array.isArray(schema.allOf)) {
    const merged: Schema = Object.assign({}, ...(schema.allOf as Schema[]));
    return exampleOf(merged, hint);
  }
  const type = Array.isArray(schema.type)
    ? (schema.type as string[]).find((t) => t !== 'null')
    : schema.type;
  switch (type) {
    case 'object': {
      const properties = (schema.properties ?? {}) as Record<string, Schema>;
      const required = (schema.required ?? []) as string[];
      return Object.fromEntries(required.map((n) => [n, exampleOf(properties[n] ?? {}, n)]));
    }
    case 'array':
      return Array.from({ length: Number(schema.minItems ?? 0) }, () =>
        exampleOf((schema.items ?? {}) as Schema, hint),
      );
    case 'integer':
    case 'number':
      return typeof schema.minimum === 'number' ? schema.minimum : 1;
    case 'boolean':
      return false;
    default:
      return stringExample(schema, hint);
  }
}

function stringExample(schema: Schema, hint: string): string {
  serial += 1;
  if (schema.format === 'uuid') return randomUUID();
  if (schema.format === 'date-time') return new Date().toISOString();
  if (schema.format === 'email') return `matrix-${serial}@example.com`;
  const min = typeof schema.minLength === 'number' ? schema.minLength : 0;
  const max = typeof schema.maxLength === 'number' ? schema.maxLength : 200;
  const pattern = typeof schema.pattern === 'string' ? new RegExp(schema.pattern, 'u') : undefined;
  const candidates = [`matrix-${serial}-${hint}`, `matrix${serial}`, String(9000 + serial)].map(
    (c) => c.padEnd(min, '0').slice(0, max),
  );
  return candidates.find((c) => !pattern || pattern.test(c)) ?? candidates[0]!;
}
