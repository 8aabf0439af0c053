/**
 * Issue 4 end to end: the control API binary on embedded PostgreSQL, the agent binary given
 * only `DISPLAY=:N` of a private Xvfb display with openbox, and xterm windows this test opens
 * there itself. Every effect of an action is read back from the X server with xprop/xwininfo,
 * not only through our own code. Nothing outside that display is touched: the display holds
 * only this test's windows, and every action targets an id the API listed from it.
 */
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startAgent,
  startControlApi,
  TEST_AGENT_CONFIG,
  waitForAgent,
  type RunningAgent,
  type RunningControlApi,
} from './support/control-stack.js';
import type { ApiClient } from '../control-api/src/test-support/rest-client.js';
import { runCommand, waitFor } from './support/processes.js';
import { PrivateDisplay, requirePrograms } from './support/xvfb.js';

const admin = { username: 'admin', password: 'e2e-admin-password-1' };
const operator = { username: 'olga', password: 'operator-password-1' };
const viewer = { username: 'vic', password: 'viewer-password-1' };
const WAIT_MS = 15_000;
const ROLE_ATTRIBUTE = 'cybercorp.e2e.desktop';

interface Bounds {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The outer on-screen bounds of a client window, frame included, as xwininfo and xprop see it. */
async function boundsFromX(display: PrivateDisplay, id: string): Promise<Bounds> {
  const info = await runCommand('xwininfo', ['-display', display.display, '-id', id]);
  if (info.code !== 0) throw new Error(`xwininfo -id ${id} failed: ${info.stderr}`);
  const field = (label: string) => {
    const match = new RegExp(`${label}:\\s+(-?\\d+)`).exec(info.stdout);
    if (!match) throw new Error(`xwininfo gave no "${label}":\n${info.stdout}`);
    return Number(match[1]);
  };
  // "Absolute upper-left" is the outer corner of the X border; width/height exclude it.
  const border = field('Border width');
  const extents = /= (\d+), (\d+), (\d+), (\d+)/.exec(
    await display.xprop(['-id', id, '_NET_FRAME_EXTENTS']),
  );
  const [left, right, top, bottom] = extents ? extents.slice(1).map(Number) : [0, 0, 0, 0];
  return {
    x: field('Absolute upper-left X') - left!,
    y: field('Absolute upper-left Y') - top!,
    width: field('Width') + 2 * border + left! + right!,
    height: field('Height') + 2 * border + top! + bottom!,
  };
}

/** GET /windows answers a list (live or cached), or a problem. */
interface WindowList {
  items: any[];
  source: string;
  at: number;
}
interface Problem {
  code: string;
  detail: string;
}

describe('window control end to end: control API, agent, Xvfb + openbox, xterms', () => {
  const run = randomUUID().slice(0, 8);
  const titles = {
    first: `cc-e2e-first-${run}`,
    second: `cc-e2e-second-${run}`,
    late: `cc-e2e-late-${run}`,
  };
  const xterms = new Map<string, ChildProcess>();
  let workDir: string;
  let api: RunningControlApi;
  let client: ApiClient;
  let adminToken: string;
  let operatorToken: string;
  let viewerToken: string;
  let agentToken: string;
  let display: PrivateDisplay;
  let bareDisplay: PrivateDisplay | undefined;
  let agent: RunningAgent;
  const otherAgents: RunningAgent[] = [];
  let agentId: string;
  /** The id the X server held for the xterm the close test closed. */
  let closedId: string | undefined;

  const controlUrl = () => `ws://127.0.0.1:${api.port}/v1/opamp`;

  function openXterm(title: string): ChildProcess {
    const child = display.spawnXterm(title);
    xterms.set(title, child);
    return child;
  }

  const listWindows = (options: { token?: string; cached?: boolean; id?: string } = {}) =>
    client
      .as(options.token ?? adminToken)
      .request<WindowList & Partial<Problem>>(
        'GET',
        `/api/v1/agents/${options.id ?? agentId}/windows${options.cached ? '?cached=true' : ''}`,
      );

  const act = (windowId: string, action: string, token = operatorToken, id = agentId) =>
    client
      .as(token)
      .request('POST', `/api/v1/agents/${id}/windows/${windowId}/actions`, { action });

  /** Polls the API's live window list until a window titled `title` shows up. */
  async function windowTitled(title: string): Promise<any> {
    return waitFor(
      `the API to list a window titled ${title}`,
      async () => {
        const response = await listWindows();
        expect(response.status, JSON.stringify(response.body)).toBe(200);
        return response.body.items.find((w) => w.title === title);
      },
      { timeoutMs: WAIT_MS, process: agent.process },
    );
  }

  const netWmState = (id: string) => display.xprop(['-id', id, '_NET_WM_STATE']);

  /** The ids in the window manager's _NET_CLIENT_LIST, as the X server holds them. */
  const clientList = async (): Promise<string[]> =>
    (await display.xprop(['-root', '_NET_CLIENT_LIST'])).match(/0x[0-9a-f]+/g) ?? [];

  /** Starts an agent whose resource carries `role`, waits until the API lists it online. */
  async function startTaggedAgent(
    role: string,
    env: NodeJS.ProcessEnv,
  ): Promise<{ agent: RunningAgent; listed: any }> {
    const started = startAgent({
      controlUrl: controlUrl(),
      token: agentToken,
      env: { ...env, OTEL_RESOURCE_ATTRIBUTES: `${ROLE_ATTRIBUTE}=${role}` },
    });
    const listed = await waitForAgent(
      client,
      adminToken,
      (a) => a.resourceAttributes?.[ROLE_ATTRIBUTE] === role,
      { process: started.process },
    );
    return { agent: started, listed };
  }

  beforeAll(async () => {
    // Missing X programs fail here, naming them.
    await requirePrograms(['Xvfb', 'openbox', 'xterm', 'xprop', 'xwininfo']);
    workDir = mkdtempSync(join(tmpdir(), 'cybercorp-e2e-windows-'));
    // The embedded PostgreSQL runs as the `postgres` user, which must traverse the work dir.
    chmodSync(workDir, 0o755);
    api = await startControlApi({ workDir, admin });
    client = api.client;
    adminToken = (await client.login(admin.username, admin.password)).accessToken;
    for (const [user, role] of [
      [operator, 'operator'],
      [viewer, 'viewer'],
    ] as const) {
      const created = await client
        .as(adminToken)
        .request('POST', '/api/v1/users', { ...user, role });
      expect(created.status).toBe(201);
    }
    operatorToken = (await client.login(operator.username, operator.password)).accessToken;
    viewerToken = (await client.login(viewer.username, viewer.password)).accessToken;
    const created = await client
      .as(adminToken)
      // One fleet token for the several agents this test starts.
      .request<{ token: string }>('POST', '/api/v1/agent-tokens', {
        name: 'e2e-windows',
        maxAgents: '*',
      });
    expect(created.status).toBe(201);
    agentToken = created.body.token;

    display = await PrivateDisplay.start();
    openXterm(titles.first);
    openXterm(titles.second);
    const desktop = await startTaggedAgent(`openbox-${run}`, { DISPLAY: display.display });
    agent = desktop.agent;
    agentId = desktop.listed.id;
  });

  afterAll(async () => {
    // Every process here was started by this test and is stopped by its own pid.
    const agents = agent ? [agent, ...otherAgents] : otherAgents;
    for (const started of agents) await started.stop();
    await api?.stop();
    await display?.stop();
    await bareDisplay?.stop();
    for (const started of agents) rmSync(started.stateDir, { recursive: true, force: true });
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it('announces window control for the agent on a display with a window manager', async () => {
    const response = await client.as(adminToken).request('GET', `/api/v1/agents/${agentId}`);
    expect(response.status).toBe(200);
    expect(response.body.windowsControl).toBe(true);
    expect(response.body.capabilities).toEqual(
      expect.arrayContaining(['io.cybercorp.control.v1', 'io.cybercorp.windows.v1']),
    );
  });

  it("lists the test's windows with titles, the xterms' pids and bounds, as the X server has them", async () => {
    for (const title of [titles.first, titles.second]) {
      const listed = await windowTitled(title);
      expect(listed.id).toMatch(/^0x[0-9a-f]+$/);
      expect(listed.pid).toBe(xterms.get(title)?.pid);
      // Read back from the X server, independently of the agent's X client.
      expect(await display.xprop(['-id', listed.id, 'WM_NAME'])).toContain(`= "${title}"`);
      expect(await display.xprop(['-id', listed.id, '_NET_WM_PID'])).toContain(`= ${listed.pid}`);
      expect(listed.bounds).toEqual(await boundsFromX(display, listed.id));
      expect(listed.bounds.width).toBeGreaterThan(50);
      expect(listed.bounds.height).toBeGreaterThan(50);
    }
    const response = await listWindows();
    expect(response.body.source).toBe('agent');
  });

  it('sees and touches only the windows of its own display', async () => {
    const environ = readFileSync(`/proc/${agent.process.pid}/environ`, 'utf8').split('\0');
    expect(environ.filter((entry) => entry.startsWith('DISPLAY='))).toEqual([
      `DISPLAY=${display.display}`,
    ]);
    const response = await listWindows();
    expect(response.status).toBe(200);
    const items = response.body.items;
    const managed = await clientList();
    const ownPids = [...xterms.values()].map((child) => child.pid);
    expect(items.length).toBeGreaterThanOrEqual(2);
    for (const window of items) {
      expect(managed).toContain(window.id);
      expect(ownPids).toContain(window.pid);
      expect(Object.values(titles)).toContain(window.title);
    }
  });

  it('focus makes the window _NET_ACTIVE_WINDOW', async () => {
    const first = await windowTitled(titles.first);
    const second = await windowTitled(titles.second);
    for (const target of [first, second, first]) {
      const response = await act(target.id, 'focus');
      expect(response.status, JSON.stringify(response.body)).toBe(200);
      expect(response.body).toMatchObject({ status: 'succeeded', commandId: expect.any(String) });
      const active = /window id # (0x[0-9a-f]+)/.exec(
        await display.xprop(['-root', '_NET_ACTIVE_WINDOW']),
      );
      expect(active?.[1]).toBe(target.id);
      const listed = (await listWindows()).body.items;
      expect(listed.filter((w) => w.active).map((w) => w.id)).toEqual([target.id]);
    }
  });

  it('minimize sets _NET_WM_STATE_HIDDEN and restore clears it', async () => {
    const first = await windowTitled(titles.first);
    expect((await act(first.id, 'minimize')).status).toBe(200);
    expect(await netWmState(first.id)).toContain('_NET_WM_STATE_HIDDEN');
    expect((await windowTitled(titles.first)).minimized).toBe(true);

    expect((await act(first.id, 'restore')).status).toBe(200);
    expect(await netWmState(first.id)).not.toContain('_NET_WM_STATE_HIDDEN');
    expect((await windowTitled(titles.first)).minimized).toBe(false);
  });

  it('maximize sets _NET_WM_STATE_MAXIMIZED_VERT/HORZ and restore clears them', async () => {
    const second = await windowTitled(titles.second);
    expect(await netWmState(second.id)).not.toContain('_NET_WM_STATE_MAXIMIZED');

    expect((await act(second.id, 'maximize')).status).toBe(200);
    const maximizedState = await netWmState(second.id);
    expect(maximizedState).toContain('_NET_WM_STATE_MAXIMIZED_VERT');
    expect(maximizedState).toContain('_NET_WM_STATE_MAXIMIZED_HORZ');
    const maximized = await windowTitled(titles.second);
    expect(maximized.maximized).toBe(true);
    expect(maximized.bounds.width).toBeGreaterThan(second.bounds.width);
    expect(maximized.bounds).toEqual(await boundsFromX(display, second.id));

    expect((await act(second.id, 'restore')).status).toBe(200);
    const restoredState = await netWmState(second.id);
    expect(restoredState).not.toContain('_NET_WM_STATE_MAXIMIZED_VERT');
    expect(restoredState).not.toContain('_NET_WM_STATE_MAXIMIZED_HORZ');
    const restored = await windowTitled(titles.second);
    expect(restored.maximized).toBe(false);
    expect(restored.bounds).toEqual(second.bounds);
  });

  it('shows a newly opened window through the change feed (cached window.event, no agent round trip)', async () => {
    // The cached list is answered from the latest window.event the agent pushed, never by
    // asking the agent, so the new window can only get there through the change feed. The cache
    // holds the snapshot every agent connection starts with.
    const before = await waitFor('the connection snapshot in the cached window list', async () => {
      const response = await listWindows({ cached: true });
      return response.status === 200 ? response : undefined;
    });
    expect(before.body.source).toBe('event');
    expect(before.body.items.map((w) => w.title)).not.toContain(titles.late);

    const openedAt = performance.now();
    const late = openXterm(titles.late);
    const arrived = await waitFor(
      'the new xterm in the cached window list',
      async () => {
        const response = await listWindows({ cached: true });
        expect(response.status).toBe(200);
        const window = response.body.items.find((w) => w.title === titles.late);
        return window ? { response, window } : undefined;
      },
      { timeoutMs: WAIT_MS, intervalMs: 10, process: agent.process },
    );
    const latencyMs = Math.round(performance.now() - openedAt);
    // Informational only (no wall-clock assertions in tests); the budget is 2 s.
    console.log(
      `change feed through the API: xterm spawn → listed in GET /windows?cached=true after ${latencyMs} ms`,
    );
    expect(arrived.response.body.source).toBe('event');
    expect(arrived.response.body.at).toBeGreaterThan(before.body.at);
    expect(arrived.window.pid).toBe(late.pid);
    expect(await clientList()).toContain(arrived.window.id);
  });

  it("refuses to act on a protected process's window: its pid protected by a hot-reloaded config", async () => {
    const title = `cc-e2e-guarded-${run}`;
    const child = openXterm(title);
    const guarded = await windowTitled(title);
    expect(guarded.pid).toBe(child.pid);
    const reloads = () => agent.process.output().split('safety settings changed').length - 1;
    const reconfigure = async (config: string) => {
      const before = reloads();
      writeFileSync(agent.configFile, config);
      await waitFor(
        'the agent to apply its new safety settings',
        async () => (reloads() > before ? true : undefined),
        { timeoutMs: WAIT_MS, process: agent.process },
      );
    };

    await reconfigure(`${TEST_AGENT_CONFIG}  pids: [${child.pid}]\n`);
    try {
      for (const action of ['close', 'minimize']) {
        const refused = await act(guarded.id, action);
        expect(refused.status, action).toBe(403);
        expect(refused.body.code).toBe('protected_process');
        expect(refused.body.detail).toContain('protected.pids');
      }
      expect(await clientList()).toContain(guarded.id);
      expect(await netWmState(guarded.id)).not.toContain('_NET_WM_STATE_HIDDEN');
      expect(child.exitCode).toBeNull();
      expect(child.signalCode).toBeNull();
    } finally {
      await reconfigure(TEST_AGENT_CONFIG);
    }
    // The rule was what refused: without it the same window is acted on.
    expect((await act(guarded.id, 'minimize')).status).toBe(200);
  });

  it('close removes the window and its xterm exits', async () => {
    const late = await windowTitled(titles.late);
    closedId = late.id;
    const child = xterms.get(titles.late) as ChildProcess;
    const response = await act(late.id, 'close');
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    await waitFor(
      'the closed xterm to exit',
      async () => child.exitCode ?? child.signalCode ?? undefined,
      {
        timeoutMs: WAIT_MS,
      },
    );
    await waitFor(
      'the closed window to leave the X client list',
      async () => ((await clientList()).includes(late.id) ? undefined : true),
      { timeoutMs: WAIT_MS },
    );
    const live = await listWindows();
    expect(live.body.items.map((w) => w.id)).not.toContain(late.id);
    await waitFor(
      'the change feed to drop the closed window',
      async () => {
        const cached = await listWindows({ cached: true });
        return cached.body.items.some((w) => w.id === late.id) ? undefined : true;
      },
      { timeoutMs: WAIT_MS, process: agent.process },
    );
  });

  it('gives a viewer 403, an unknown window 404 no_such_window and an unknown action 400', async () => {
    const first = await windowTitled(titles.first);
    const stateBefore = await netWmState(first.id);

    const viewerList = await listWindows({ token: viewerToken });
    expect(viewerList.status).toBe(200);
    const refused = await act(first.id, 'minimize', viewerToken);
    expect(refused.status).toBe(403);
    expect(refused.contentType).toContain('application/problem+json');
    expect(refused.body.code).toBe('forbidden');
    expect(await netWmState(first.id)).toBe(stateBefore);

    // An id the X server held until the close above, and openbox's own (unmanaged) window.
    const wmCheckId = /window id # (0x[0-9a-f]+)/.exec(
      await display.xprop(['-root', '_NET_SUPPORTING_WM_CHECK']),
    )?.[1];
    expect(closedId).toBeDefined();
    expect(wmCheckId).toBeDefined();
    for (const unknown of [closedId!, wmCheckId!]) {
      const missing = await act(unknown, 'focus');
      expect(missing.status, unknown).toBe(404);
      expect(missing.contentType).toContain('application/problem+json');
      expect(missing.body.code).toBe('no_such_window');
    }

    const badAction = await act(first.id, 'explode');
    expect(badAction.status).toBe(400);
    expect(badAction.contentType).toContain('application/problem+json');
    expect(badAction.body.code).toBe('unknown_action');
    expect(await netWmState(first.id)).toBe(stateBefore);
    expect((await fetch(`${api.url}/healthz`)).status).toBe(200);
  });

  it('records every window action in the audit log with actor and outcome', async () => {
    const response = await client
      .as(adminToken)
      .request('GET', `/api/v1/audit?agentId=${agentId}&limit=200`);
    expect(response.status).toBe(200);
    const events = (response.body.items as any[]).filter((e) => e.targetType === 'window');
    const first = await windowTitled(titles.first);
    const second = await windowTitled(titles.second);
    const count = (match: (e: any) => boolean) => events.filter(match).length;
    const succeeded = (action: string, id: string) =>
      count(
        (e) =>
          e.action === `window.${action}` &&
          e.targetId === id &&
          e.actor === operator.username &&
          e.outcome === 'succeeded' &&
          typeof e.commandId === 'string',
      );
    expect(succeeded('focus', first.id)).toBe(2);
    expect(succeeded('focus', second.id)).toBe(1);
    expect(succeeded('minimize', first.id)).toBe(1);
    expect(succeeded('restore', first.id)).toBe(1);
    expect(succeeded('maximize', second.id)).toBe(1);
    expect(succeeded('restore', second.id)).toBe(1);
    expect(
      count(
        (e) =>
          e.action === 'window.close' && e.actor === operator.username && e.outcome === 'succeeded',
      ),
    ).toBe(1);
    expect(
      count(
        (e) =>
          e.action === 'window.minimize' &&
          e.targetId === first.id &&
          e.actor === viewer.username &&
          e.outcome === 'denied' &&
          e.errorCode === 'forbidden',
      ),
    ).toBe(1);
    expect(
      count(
        (e) =>
          e.action === 'window.focus' &&
          e.outcome === 'failed' &&
          e.errorCode === 'no_such_window' &&
          e.actor === operator.username,
      ),
    ).toBe(2);
    for (const event of events) {
      expect(event.agentId).toBe(agentId);
      expect([operator.username, viewer.username]).toContain(event.actor);
    }
  });

  it('answers 409 capability_missing when the display has no window manager or there is no display', async () => {
    bareDisplay = await PrivateDisplay.start({ windowManager: false });
    const cases: Array<[string, NodeJS.ProcessEnv]> = [
      [`bare-${run}`, { DISPLAY: bareDisplay.display }],
      [`headless-${run}`, { DISPLAY: undefined }],
    ];
    const refusedAgentIds: string[] = [];
    for (const [role, env] of cases) {
      const { agent: other, listed } = await startTaggedAgent(role, env);
      otherAgents.push(other);
      refusedAgentIds.push(listed.id);
      // Still a controllable agent (processes), just without window control.
      expect(listed.controllable, role).toBe(true);
      expect(listed.windowsControl, role).toBe(false);
      expect(listed.capabilities, role).toContain('io.cybercorp.control.v1');
      expect(listed.capabilities, role).not.toContain('io.cybercorp.windows.v1');

      const list = await listWindows({ id: listed.id });
      const action = await act('0x400001', 'focus', operatorToken, listed.id);
      for (const response of [list, action]) {
        expect(response.status, role).toBe(409);
        expect(response.contentType).toContain('application/problem+json');
        expect(response.body.code).toBe('capability_missing');
        expect(response.body.detail).toContain('io.cybercorp.windows.v1');
        // The agent's own reason travels with it.
        expect(response.body.detail, role).toMatch(
          role.startsWith('bare') ? /window manager/i : /display/i,
        );
      }
      const cached = await listWindows({ id: listed.id, cached: true });
      expect(cached.status, role).toBe(409);
      expect(cached.body.code).toBe('capability_missing');
      console.log(`capability_missing detail (${role}): ${list.body.detail}`);
      other.process.assertRunning();
    }
    // The refused actions are audited with their outcome too.
    const audit = await client.as(adminToken).request('GET', '/api/v1/audit?limit=200');
    const refusals = (audit.body.items as any[]).filter(
      (e) => e.errorCode === 'capability_missing' && e.action === 'window.focus',
    );
    expect(refusals.map((e) => e.agentId).sort()).toEqual([...refusedAgentIds].sort());
    for (const refusal of refusals) {
      expect(refusal).toMatchObject({ actor: operator.username, outcome: 'failed' });
    }
  });
});
