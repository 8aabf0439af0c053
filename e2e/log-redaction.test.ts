/**
 * Secrets never reach a log: the real control API (embedded PostgreSQL) and a real agent, both at
 * LOG_LEVEL=debug with a LOG_FILE, handle a login, a refresh, new agent and service tokens and
 * a user, an agent connecting with its token and requests carrying each bearer token; then no
 * line either process wrote (stdout, stderr, its log file) contains any of those secrets. The
 * request lines do carry the Authorization header, so this fails as soon as redaction does.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
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
import { waitFor } from './support/processes.js';

const KEEP_OUTPUT_BYTES = 16 * 1024 * 1024;
const random = (prefix: string) => `${prefix}${randomBytes(18).toString('base64url')}`;
const admin = { username: 'admin', password: random('admin-pw-') };

describe('log redaction: real API, real agent, real PostgreSQL', () => {
  let workDir: string;
  let api: RunningControlApi;
  let agent: RunningAgent | undefined;
  const secrets = new Map<string, string>();
  let logs: { name: string; text: string }[] = [];

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'cybercorp-log-redaction-'));
    secrets.set('admin password', admin.password);
    api = await startControlApi({
      workDir,
      admin,
      keepOutputBytes: KEEP_OUTPUT_BYTES,
      env: { LOG_LEVEL: 'debug', LOG_FILE: join(workDir, 'logs', 'api.log') },
    });
    const { client } = api;

    const first = await client.login(admin.username, admin.password);
    secrets.set('access token', first.accessToken);
    secrets.set('refresh token', first.refreshToken);
    const refreshed = await client.request<{ accessToken: string; refreshToken: string }>(
      'POST',
      '/api/v1/auth/refresh',
      {
        refreshToken: first.refreshToken,
      },
    );
    expect(refreshed.status).toBe(200);
    secrets.set('refreshed access token', refreshed.body.accessToken);
    secrets.set('rotated refresh token', refreshed.body.refreshToken);
    const token: string = refreshed.body.accessToken;

    const agentToken = await client
      .as(token)
      .request<{ token: string }>('POST', '/api/v1/agent-tokens', { name: 'log-redaction' });
    expect(agentToken.status).toBe(201);
    secrets.set('agent token', agentToken.body.token);
    const serviceToken = await client
      .as(token)
      .request<{ token: string }>('POST', '/api/v1/service-tokens', {
        name: 'grafana-log-redaction',
        role: 'operator',
      });
    expect(serviceToken.status).toBe(201);
    secrets.set('service token', serviceToken.body.token);
    const viewer = { username: 'viewer-log-redaction', password: random('viewer-pw-') };
    secrets.set('new user password', viewer.password);
    const created = await client
      .as(token)
      .request('POST', '/api/v1/users', { ...viewer, role: 'viewer' });
    expect(created.status).toBe(201);
    const viewerLogin = await client.login(viewer.username, viewer.password);
    secrets.set('viewer access token', viewerLogin.accessToken);
    secrets.set('viewer refresh token', viewerLogin.refreshToken);
    const wrongPassword = random('wrong-pw-');
    secrets.set('wrong password', wrongPassword);
    const refused = await client.request('POST', '/api/v1/auth/login', {
      username: viewer.username,
      password: wrongPassword,
    });
    expect(refused.status).toBe(401);
    const unknownServiceToken = random('ccs_');
    secrets.set('unknown service token', unknownServiceToken);
    expect((await client.as(unknownServiceToken).request('GET', '/api/v1/me')).status).toBe(401);

    agent = startAgent({
      controlUrl: `ws://127.0.0.1:${api.port}/v1/opamp`,
      token: agentToken.body.token,
      keepOutputBytes: KEEP_OUTPUT_BYTES,
      env: { LOG_LEVEL: 'debug', LOG_FILE: join(workDir, 'logs', 'agent.log') },
    });
    const agentId: string = (
      await waitForAgent(client, token, () => true, { process: agent.process })
    ).id;

    const grafana = client.as(serviceToken.body.token);
    const asAlice = { headers: { 'x-grafana-user': 'alice' } };
    expect((await client.as(token).request('GET', '/api/v1/me')).status).toBe(200);
    expect((await grafana.request('GET', '/api/v1/agents', undefined, asAlice)).status).toBe(200);
    expect(
      (await grafana.request('GET', `/api/v1/agents/${agentId}/processes`, undefined, asAlice))
        .status,
    ).toBe(200);
    expect(
      (await client.as(viewerLogin.accessToken).request('GET', `/api/v1/agents/${agentId}`)).status,
    ).toBe(200);
    // OpAMP over plain HTTP with the agent token: a request line with that Authorization header.
    const opamp = await client
      .as(agentToken.body.token)
      .request('POST', '/v1/opamp', 'not protobuf', {
        headers: { 'content-type': 'application/x-protobuf' },
      });
    expect(opamp.status).toBeGreaterThanOrEqual(400);
    expect(opamp.status).toBeLessThan(500);
    const logout = await client
      .as(viewerLogin.accessToken)
      .request('POST', '/api/v1/auth/logout', { refreshToken: viewerLogin.refreshToken });
    expect(logout.status).toBe(204);

    // The agent answered the process list: its debug line says so (and is in its log).
    await waitFor(
      'the agent to log the answered command',
      async () => (agent!.process.output().includes('control command answered') ? true : undefined),
      { process: agent.process },
    );
    await agent.stop();
    await api.stop();

    const files = readdirSync(join(workDir, 'logs'));
    logs = [
      { name: 'control API stdout+stderr', text: api.process.output() },
      { name: 'agent stdout+stderr', text: agent.process.output() },
      ...files.map((file) => ({
        name: `LOG_FILE ${file}`,
        text: readFileSync(join(workDir, 'logs', file), 'utf8'),
      })),
    ];
  });

  afterAll(async () => {
    await agent?.stop();
    await api?.stop();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it('captured everything both processes logged, including the request headers', () => {
    expect(logs.map((l) => l.name)).toEqual([
      'control API stdout+stderr',
      'agent stdout+stderr',
      expect.stringMatching(/^LOG_FILE agent\.\d{4}-\d\d-\d\d\.1\.log$/),
      expect.stringMatching(/^LOG_FILE api\.\d{4}-\d\d-\d\d\.1\.log$/),
    ]);
    for (const { name, text } of logs) {
      expect(text.length, `${name} kept whole`).toBeLessThan(KEEP_OUTPUT_BYTES);
      expect(text, `${name} has debug lines`).toContain('"level":"debug"');
    }
    const apiFile = logs[3]!.text;
    expect(apiFile.includes('"component":"http"'), 'the API file has request lines').toBe(true);
    expect(
      apiFile.includes('"authorization":"[redacted]"'),
      'request lines carry the Authorization header, redacted',
    ).toBe(true);
  });

  it('wrote JSON lines with time, level, msg (and component) in both processes', () => {
    const levels = ['debug', 'info', 'warn', 'error', 'fatal'];
    for (const { name, text } of logs) {
      const lines = text
        .split('\n')
        .filter((line) => line !== '' && !line.startsWith('cybercorp-control-api listening on'));
      expect(lines.length, name).toBeGreaterThan(0);
      for (const line of lines) {
        const record = JSON.parse(line) as Record<string, unknown>;
        expect(levels, `${name}: ${line}`).toContain(record.level);
        expect(typeof record.time, `${name}: ${line}`).toBe('string');
        expect(typeof record.msg, `${name}: ${line}`).toBe('string');
        expect(typeof record.component, `${name}: ${line}`).toBe('string');
      }
    }
  });

  it('logged none of the secrets, whole or in part', () => {
    expect(secrets.size).toBe(12);
    const leaks: string[] = [];
    for (const [what, secret] of secrets) {
      // A middle piece too, so a truncated or re-encoded prefix of a token counts as a leak.
      const piece = secret.slice(
        Math.floor(secret.length / 2) - 8,
        Math.floor(secret.length / 2) + 8,
      );
      for (const { name, text } of logs) {
        if (text.includes(secret) || text.includes(piece)) leaks.push(`${what} in ${name}`);
      }
    }
    expect(leaks).toEqual([]);
  });
});
