/**
 * Issue 5 in a real browser: the plugin's pages (its real module, @grafana/ui, react-query) in
 * Debian's Chromium, talking through a stand-in for Grafana's plugin proxy that injects the
 * service tokens, to the real control API binary and the real agent binary on this host.
 * The only processes signalled are the `sleep` this test spawns; pid 1 is only asked for, and
 * the test checks the agent refused and pid 1 was not stopped. The only window is an xterm the
 * test opens on its own Xvfb display. Screenshots go to test-artifacts/plugin-browser/.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testIds } from '../grafana-app-plugin/src/components/testIds.js';
import { launchChromium, type LaunchedChromium } from './support/chromium.js';
import {
  procState,
  startAgent,
  startControlApi,
  waitForAgent,
  type RunningAgent,
  type RunningControlApi,
} from './support/control-stack.js';
import { REPO_ROOT } from './support/otelcol.js';
import { buildHarness, PluginHarnessServer } from './support/plugin-harness.js';
import { exitOf, spawnSleeper, waitFor } from './support/processes.js';
import { PrivateDisplay, requirePrograms } from './support/xvfb.js';

const admin = { username: 'admin', password: 'e2e-admin-password-1' };
const APP = '/a/cybercorp-fleet-app';
const SCREENSHOTS = join(REPO_ROOT, 'test-artifacts/plugin-browser');
const WINDOW_TITLE = 'plugin-browser test window';
/** The Grafana login the proxy names in X-Grafana-User (Grafana's `send_user_header`). */
const GRAFANA_USER = 'harness';
const UI_WAIT_MS = 30_000;
const read = (path: string) => readFileSync(path, 'utf8');

interface Recorded {
  url: string;
  status: number;
  body: string;
}

describe('plugin pages in Chromium against the real control API and agent', () => {
  let workDir: string;
  let api: RunningControlApi;
  let agent: RunningAgent;
  let display: PrivateDisplay;
  let harness: PluginHarnessServer;
  let browser: LaunchedChromium;
  let page: Page;
  let agentId: string;
  let hostname: string;
  let readToken: string;
  let actToken: string;
  let sleeper: ChildProcess & { pid: number };
  const responses: Array<Promise<Recorded>> = [];
  const requestHeaders: string[] = [];
  const pageErrors: string[] = [];

  const byId = (id: string) => page.getByTestId(id);
  const screenshot = (name: string, fullPage = true) =>
    page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage });
  const openPage = async (path: string) => {
    await page.goto(`${harness.url}${path}`);
  };

  /**
   * Clicks `action` for `pid`, gives the reason in the confirm modal, waits for the result banner
   * that contains `expected` and returns the banner's text.
   */
  async function actThroughUi(
    pid: number,
    action: string,
    reason: string,
    expected: string,
  ): Promise<string> {
    await byId(testIds.processes.action(pid, action)).click();
    await byId(testIds.processes.reason).fill(reason);
    await byId(testIds.processes.confirm).click();
    const result = byId(testIds.processes.result).filter({ hasText: expected });
    await result.waitFor({ timeout: UI_WAIT_MS });
    await byId(testIds.processes.reason).waitFor({ state: 'detached', timeout: UI_WAIT_MS });
    return (await result.innerText()).trim();
  }

  beforeAll(async () => {
    await requirePrograms(['Xvfb', 'openbox', 'xterm', 'xprop']);
    mkdirSync(SCREENSHOTS, { recursive: true });
    workDir = mkdtempSync(join(tmpdir(), 'cybercorp-plugin-browser-'));

    api = await startControlApi({ workDir, admin });
    const adminToken = (await api.client.login(admin.username, admin.password)).accessToken;
    const serviceToken = async (name: string, role: string) => {
      const created = await api.client
        .as(adminToken)
        .request('POST', '/api/v1/service-tokens', { name, role });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      return created.body.token as string;
    };
    readToken = await serviceToken('grafana-read', 'viewer');
    actToken = await serviceToken('grafana-act', 'operator');
    const agentToken = await api.client
      .as(adminToken)
      .request<{ token: string }>('POST', '/api/v1/agent-tokens', { name: 'plugin-browser' });
    expect(agentToken.status).toBe(201);

    display = await PrivateDisplay.start();
    display.spawnXterm(WINDOW_TITLE);
    agent = startAgent({
      controlUrl: `ws://127.0.0.1:${api.port}/v1/opamp`,
      token: agentToken.body.token,
      env: { DISPLAY: display.display },
    });
    const listed = await waitForAgent(api.client, adminToken, () => true, {
      process: agent.process,
    });
    agentId = listed.id;
    hostname = listed.hostname;

    sleeper = spawnSleeper();

    const bundleDir = mkdtempSync(join(tmpdir(), 'cybercorp-plugin-harness-'));
    await buildHarness(bundleDir);
    harness = await PluginHarnessServer.start({
      bundleDir,
      role: 'Admin',
      grafanaUser: GRAFANA_USER,
      settings: { jsonData: { apiUrl: api.url }, secureJsonData: { readToken, actToken } },
    });

    browser = await launchChromium();
    page = browser.context.pages()[0] ?? (await browser.context.newPage());
    browser.context.on('response', (response) => {
      responses.push(
        response.text().then(
          (body) => ({ url: response.url(), status: response.status(), body }),
          () => ({ url: response.url(), status: response.status(), body: '' }),
        ),
      );
    });
    browser.context.on('request', (request) => {
      requestHeaders.push(`${request.url()} ${JSON.stringify(request.headers())}`);
    });
    page.on('pageerror', (error) => pageErrors.push(String(error)));
  });

  afterAll(async () => {
    if (sleeper && sleeper.exitCode === null && sleeper.signalCode === null) {
      sleeper.kill('SIGKILL');
    }
    await browser?.close();
    await harness?.stop();
    await agent?.stop();
    await api?.stop();
    await display?.stop();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it('lists the host on the Fleet page, online, and opens its page', async () => {
    await openPage(`${APP}/fleet`);
    const row = byId(testIds.fleet.table).locator('tr', { hasText: hostname });
    await row.waitFor({ timeout: UI_WAIT_MS });
    expect(await row.innerText()).toContain('online');
    await screenshot('fleet');

    await row.getByRole('link', { name: hostname }).click();
    await page.waitForURL(`**${APP}/hosts/${agentId}/processes`);
    await byId(testIds.processes.table).waitFor({ timeout: UI_WAIT_MS });
  });

  it('suspends, resumes and terminates the process the test spawned, each after a confirmation with a reason', async () => {
    const pid = sleeper.pid;
    await openPage(`${APP}/hosts/${agentId}/processes`);
    await byId(testIds.processes.filter).fill(String(pid));
    await byId(testIds.processes.action(pid, 'suspend')).waitFor({ timeout: UI_WAIT_MS });
    expect(procState(pid, read)).toBe('S');

    // The modal asks for a reason before anything is sent.
    await byId(testIds.processes.action(pid, 'suspend')).click();
    expect(await byId(testIds.processes.confirm).isDisabled()).toBe(true);
    await byId(testIds.processes.reason).fill('browser test: pause the sleeper');
    await screenshot('host-processes-confirm');
    await byId(testIds.processes.confirm).click();
    const suspended = byId(testIds.processes.result).filter({
      hasText: `suspend sleep (pid ${pid})`,
    });
    await suspended.waitFor({ timeout: UI_WAIT_MS });
    expect(await suspended.innerText()).toContain('succeeded');
    await waitFor('the sleeper to be stopped (T)', async () =>
      procState(pid, read) === 'T' ? true : undefined,
    );
    await byId(testIds.processes.table)
      .locator('tr', { hasText: `${pid}` })
      .first()
      .waitFor();
    await screenshot('host-processes');

    const resumed = await actThroughUi(
      pid,
      'resume',
      'browser test: let it run again',
      `resume sleep (pid ${pid})`,
    );
    expect(resumed).toContain(`resume sleep (pid ${pid}): succeeded`);
    await waitFor('the sleeper to run again (S)', async () =>
      procState(pid, read) === 'S' ? true : undefined,
    );

    const exit = exitOf(sleeper);
    const terminated = await actThroughUi(
      pid,
      'terminate',
      'browser test: done with it',
      `terminate sleep (pid ${pid})`,
    );
    expect(terminated).toContain(`terminate sleep (pid ${pid}): succeeded`);
    expect(await exit).toEqual({ code: null, signal: 'SIGTERM' });
  });

  it("shows the agent's protected_process refusal for pid 1 and leaves pid 1 alone", async () => {
    const before = procState(1, read);
    await openPage(`${APP}/hosts/${agentId}/processes`);
    await byId(testIds.processes.action(1, 'suspend')).waitFor({ timeout: UI_WAIT_MS });
    const refusal = await actThroughUi(
      1,
      'suspend',
      'browser test: must be refused',
      'protected_process',
    );
    expect(refusal).toContain('Refused by the agent: the process is protected');
    expect(refusal).toContain('protected_process');
    expect(procState(1, read)).not.toBe('T');
    expect(procState(1, read)).toBe(before);
    // The whole list of this host's processes is long; the banner is at the top.
    await screenshot('host-processes-refused', false);
  });

  it("lists the test's own window on the Windows tab", async () => {
    await openPage(`${APP}/hosts/${agentId}/processes`);
    await byId(testIds.host.tabWindows).click();
    await page.waitForURL(`**${APP}/hosts/${agentId}/windows`);
    const row = byId(testIds.windows.table).locator('tr', { hasText: WINDOW_TITLE });
    await row.waitFor({ timeout: UI_WAIT_MS });
    await screenshot('host-windows');
  });

  it('finds those actions, their reasons and outcomes on the Audit page', async () => {
    const pid = sleeper.pid;
    await openPage(`${APP}/audit`);
    const table = byId(testIds.audit.table);
    await table.locator('tr', { hasText: 'process.terminate' }).first().waitFor({
      timeout: UI_WAIT_MS,
    });
    const rows = await table.locator('tbody tr').allInnerTexts();
    const find = (action: string, target: string) =>
      rows.find((r) => r.includes(action) && r.includes(`process ${target}`));
    expect(find('process.suspend', String(pid))).toMatch(/pause the sleeper[\s\S]*succeeded/);
    expect(find('process.resume', String(pid))).toMatch(/let it run again[\s\S]*succeeded/);
    expect(find('process.terminate', String(pid))).toMatch(/done with it[\s\S]*succeeded/);
    expect(find('process.suspend', '1')).toMatch(/must be refused[\s\S]*protected_process/);
    // Who acted: the Grafana user, through the act route's service token.
    expect(find('process.terminate', String(pid))).toContain(
      `grafana:${GRAFANA_USER} via service token grafana-act`,
    );
    await screenshot('audit');
  });

  it("marks those actions and the agent's connection on the Host page's event timeline", async () => {
    const pid = sleeper.pid;
    await openPage(`${APP}/hosts/${agentId}/processes`);
    const table = byId(testIds.events.table);
    await table
      .locator('tr', { hasText: `process.terminate ${pid}` })
      .first()
      .waitFor({
        timeout: UI_WAIT_MS,
      });
    const rows = await table.locator('tbody tr').allInnerTexts();
    expect(rows.find((r) => r.includes(`process.terminate ${pid}`))).toMatch(
      new RegExp(
        `by grafana:${GRAFANA_USER} via service token grafana-act · succeeded · reason: browser test: done with it`,
      ),
    );
    expect(rows.find((r) => r.includes('process.suspend 1 '))).toContain('(protected_process)');
    expect(rows.some((r) => r.includes('agent connected'))).toBe(true);
    // One marker on the time axis per listed event.
    expect(await byId(testIds.events.axis).locator('[role="img"]').count()).toBe(rows.length);
    await screenshot('host-events', false);
  });

  it('tests the connection on the configuration page through the read route', async () => {
    await openPage('/plugins/cybercorp-fleet-app');
    expect(await byId(testIds.appConfig.apiUrl).inputValue()).toBe(api.url);
    await byId(testIds.appConfig.testConnection).click();
    const result = byId(testIds.appConfig.testResult);
    await result.waitFor({ timeout: UI_WAIT_MS });
    expect(await result.innerText()).toContain('role viewer');
    await screenshot('config');
  });

  it('never hands the browser a token: no response body or request carries one', async () => {
    const recorded = await Promise.all(responses);
    // The recording saw the API's answers (so an empty recording cannot pass).
    expect(recorded.some((r) => r.url.includes('/read/agents') && r.body.includes(agentId))).toBe(
      true,
    );
    expect(recorded.some((r) => r.url.includes('/act/agents/'))).toBe(true);
    for (const token of [readToken, actToken]) {
      expect(recorded.filter((r) => r.body.includes(token)).map((r) => r.url)).toEqual([]);
      expect(requestHeaders.filter((h) => h.includes(token))).toEqual([]);
    }
    expect(requestHeaders.filter((h) => /"authorization"/i.test(h))).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
