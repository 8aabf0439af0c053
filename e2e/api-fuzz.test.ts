/**
 * schemathesis against the real control API binary (embedded PostgreSQL) and a real agent, driven
 * by the API's own OpenAPI document: malformed, unexpected, unauthorized and schema-valid requests
 * must get a documented answer — never a 5xx, a crash or a hang — and responses must match the
 * document (status, content type, body schema). Two passes: as admin (everything reachable), and
 * as a viewer (the refusals).
 *
 * Safety: the two action routes (process signals, window actions) are excluded from the run, so
 * the fuzzer never relays anything to the agent but the read-only process and window lists; so is
 * agent token revocation (the stateful phase would take the live agent's token id from
 * `GET /agent-tokens` and disconnect it for good), and so are the operations on one user
 * (`/users/{username}`: the stateful phase takes `admin` and `fuzz-viewer` from `GET /users` and
 * resets their passwords or roles, which by design ends the very tokens the fuzzer calls with;
 * `users.int.test.ts` covers them); the
 * test then checks the audit log holds no process or window action but the one the test made
 * itself before the run (`resume` on a `sleep` it spawned, so that `GET /commands/{commandId}`
 * has a real command to fetch).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startAgent,
  startControlApi,
  waitForAgent,
  type RunningAgent,
  type RunningControlApi,
} from './support/control-stack.js';
import type { ApiClient } from '../control-api/src/test-support/rest-client.js';
import { spawnSleeper } from './support/processes.js';
import { requireSchemathesis, runSchemathesis } from './support/schemathesis.js';

const admin = { username: 'admin', password: 'api-fuzz-admin-password-1' };

/**
 * Operations the fuzzer must never call: they signal processes, act on windows, revoke the live
 * agent's token, or change the users whose tokens the fuzzer calls with.
 */
const EXCLUDED_PATH_REGEX =
  '^/api/v1/agents/\\{agentId\\}/(processes/\\{pid\\}|windows/\\{windowId\\})/actions$' +
  '|^/api/v1/agent-tokens/\\{tokenId\\}$' +
  '|^/api/v1/users/\\{username\\}$';
/** How many operations EXCLUDED_PATH_REGEX leaves out (GET, PATCH and DELETE of one user). */
const EXCLUDED_OPERATIONS = 6;

/**
 * The relay routes get the live agent's id, so fuzzed requests reach it, and the command route a
 * real command id (other operations keep fuzzing theirs); the admin token comes from the
 * environment, not the command line.
 */
function configToml(agentId: string, commandId: string): string {
  return `headers = { Authorization = "Bearer \${CYBERCORP_FUZZ_TOKEN}" }

[[operations]]
include-path-regex = "^/api/v1/agents/\\\\{agentId\\\\}/(processes|windows)$"
include-method = "GET"
parameters = { agentId = "${agentId}" }

[[operations]]
include-path = "/api/v1/commands/{commandId}"
include-method = "GET"
parameters = { commandId = "${commandId}" }
`;
}

interface AuditPage {
  items: any[];
  nextCursor: string | null;
}

/** Every audit event, newest first, following nextCursor (bounded). */
async function allAuditEvents(client: ApiClient, token: string): Promise<any[]> {
  const events: any[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 200; page++) {
    const query: string = cursor ? `&cursor=${cursor}` : '';
    const response = await client
      .as(token)
      .request<AuditPage>('GET', `/api/v1/audit?limit=500${query}`);
    expect(response.status).toBe(200);
    events.push(...response.body.items);
    cursor = response.body.nextCursor;
    if (!cursor) return events;
  }
  throw new Error('the audit log did not end within 200 pages');
}

type Counts = { route: string; status: number; count: number }[];

/** Requests per route and status, from the API's own Prometheus metrics. */
async function requestCounts(url: string): Promise<Counts> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const counts: Counts = [];
  for (const line of text.split('\n')) {
    const m = /^cybercorp_http_request_duration_seconds_count\{([^}]*)\} (\d+)/.exec(line);
    if (!m) continue;
    const route = /route="([^"]*)"/.exec(m[1]!)?.[1] ?? '';
    const status = Number(/status="(\d+)"/.exec(m[1]!)?.[1]);
    counts.push({ route, status, count: Number(m[2]) });
  }
  return counts;
}

function countOf(counts: Counts, route: string, status: number): number {
  return counts
    .filter((c) => c.route === route && c.status === status)
    .reduce((n, c) => n + c.count, 0);
}
const okCount = (counts: Counts, route: string) => countOf(counts, route, 200);

describe('API fuzzing: schemathesis against the live OpenAPI document', () => {
  let workDir: string;
  let api: RunningControlApi;
  let agent: RunningAgent;
  let adminToken: string;
  let agentId: string;
  let sleeper: ChildProcess & { pid: number };
  let commandId: string;
  let viewerToken: string;

  beforeAll(async () => {
    requireSchemathesis(); // fail fast, naming it, before starting anything
    workDir = mkdtempSync(join(tmpdir(), 'cybercorp-api-fuzz-'));
    api = await startControlApi({ workDir, admin });
    adminToken = (await api.client.login(admin.username, admin.password)).accessToken;
    const created = await api.client
      .as(adminToken)
      .request<{ token: string }>('POST', '/api/v1/agent-tokens', { name: 'api-fuzz' });
    expect(created.status).toBe(201);
    agent = startAgent({
      controlUrl: `ws://127.0.0.1:${api.port}/v1/opamp`,
      token: created.body.token,
    });
    agentId = (await waitForAgent(api.client, adminToken, () => true, { process: agent.process }))
      .id;

    // SIGCONT to a running sleep of our own: a real, harmless command for GET /commands/{id}.
    sleeper = spawnSleeper();
    const resumed = await api.client
      .as(adminToken)
      .request<{ commandId: string }>(
        'POST',
        `/api/v1/agents/${agentId}/processes/${sleeper.pid}/actions`,
        {
          action: 'resume',
          reason: 'api-fuzz fixture',
        },
      );
    expect(resumed.status, JSON.stringify(resumed.body)).toBe(200);
    commandId = resumed.body.commandId;

    // Logged in before any fuzzing: the admin pass's wrong logins from this address exhaust its
    // login limit (100 failed attempts a day), after which no login from here would pass.
    const viewer = await api.client.as(adminToken).request('POST', '/api/v1/users', {
      username: 'fuzz-viewer',
      password: 'fuzz-viewer-password-1',
      role: 'viewer',
    });
    expect(viewer.status).toBe(201);
    viewerToken = (await api.client.login('fuzz-viewer', 'fuzz-viewer-password-1')).accessToken;
  });

  afterAll(async () => {
    if (sleeper && sleeper.exitCode === null && sleeper.signalCode === null)
      sleeper.kill('SIGKILL');
    await agent?.stop();
    await api?.stop();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  /**
   * One schemathesis run with `token`, then what must hold after any run: exit 0, every
   * operation but the excluded ones tested, no 5xx, no request to an action route, the API
   * and the agent still up, and no action in the audit log but the test's own.
   */
  async function fuzzAs(token: string, maxExamples: number): Promise<Counts> {
    const configFile = join(workDir, 'schemathesis.toml');
    writeFileSync(configFile, configToml(agentId, commandId));
    const seed = process.env.CYBERCORP_FUZZ_SEED;
    const actionsBefore = (await requestCounts(api.url)).filter((c) =>
      c.route.endsWith('/actions'),
    );
    const run = await runSchemathesis({
      schemaUrl: `${api.url}/api/v1/openapi.json`,
      configFile,
      args: [
        ...['--checks', 'all'],
        ...['--exclude-path-regex', EXCLUDED_PATH_REGEX],
        ...['--max-examples', String(maxExamples)],
        ...['--workers', '1'],
        ...['--request-timeout', '15'],
        ...['--generation-database', 'none'],
        ...(seed ? ['--seed', seed] : []),
      ],
      cwd: workDir,
      env: { CYBERCORP_FUZZ_TOKEN: token },
      timeoutMs: 240_000,
    });
    const output = `${run.stdout}\n${run.stderr}`;
    expect(run.code, `schemathesis failed (exit ${run.code}):\n${output.slice(-20_000)}`).toBe(0);
    const document = (await api.client.request('GET', '/api/v1/openapi.json')).body;
    const total = Object.values(document.paths as Record<string, object>).reduce(
      (n, methods) => n + Object.keys(methods).length,
      0,
    );
    const selected = total - EXCLUDED_OPERATIONS;
    expect(output).toMatch(new RegExp(`Operations:\\s+${selected} selected / ${total} total`));
    expect(output).toMatch(new RegExp(`Tested: ${selected}\\b`));

    api.process.assertRunning();
    agent.process.assertRunning();
    const counts = await requestCounts(api.url);
    expect(
      counts.filter((c) => c.status >= 500),
      'requests the API answered with 5xx',
    ).toEqual([]);
    expect(
      counts.filter((c) => c.route.endsWith('/actions')),
      'requests to the excluded action routes',
    ).toEqual(actionsBefore);

    // The fuzzer's token still works, and no action but the test's own was ever relayed.
    expect((await api.client.as(token).request('GET', '/api/v1/me')).status).toBe(200);
    const events = await allAuditEvents(api.client, adminToken);
    expect(events.filter((e) => /^(process|window)\./.test(e.action))).toEqual([
      expect.objectContaining({ action: 'process.resume', targetId: String(sleeper.pid) }),
    ]);
    expect(sleeper.exitCode).toBeNull();
    expect(sleeper.signalCode).toBeNull();
    expect(await waitForAgent(api.client, adminToken, (a) => a.id === agentId)).toMatchObject({
      online: true,
    });
    return counts;
  }

  it(
    'as admin: answers every generated request as documented, never with a 5xx',
    { timeout: 300_000 },
    async () => {
      const counts = await fuzzAs(adminToken, 250);
      // The ids given to the fuzzer took: requests reached the live agent and the real command.
      expect(okCount(counts, '/api/v1/agents/:agentId/processes'), 'process lists').toBeGreaterThan(
        0,
      );
      expect(okCount(counts, '/api/v1/commands/:commandId'), 'commands found').toBeGreaterThan(0);
    },
  );

  it(
    'as a viewer: admin routes are refused with 403 problems, never a 5xx',
    { timeout: 300_000 },
    async () => {
      const before = await requestCounts(api.url);
      const counts = await fuzzAs(viewerToken, 50);
      const forbidden = (route: string) =>
        countOf(counts, route, 403) - countOf(before, route, 403);
      expect(forbidden('/api/v1/users'), 'POST /users refused').toBeGreaterThan(0);
      expect(forbidden('/api/v1/service-tokens'), 'service tokens refused').toBeGreaterThan(0);
    },
  );
});
