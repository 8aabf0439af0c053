/**
 * Must-hold 4 of issue 11, and what an instance that stops owes its commands: two API instances
 * (real processes this test spawned, one PostgreSQL and one redis-server of their own) behind
 * the real nginx on the project's gateway configuration, the real agent connected through the
 * gateway over wss:// with its protected policy on. The instance holding the agent is stopped,
 * once by SIGKILL to its pid and once gracefully (SIGTERM: close()); each time the agent comes
 * back online through the other instance, the next command succeeds, and every command in
 * flight at the stop ends with exactly one recorded outcome, never carried out twice.
 *
 * "In flight" is made certain by freezing the agent (SIGSTOP to the agent process this test
 * spawned) before the commands are sent: they reach its socket but cannot be answered before the
 * stop. When it is thawed it may still read and carry them out; the record must then say
 * `unknown`, never that the command was not sent.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDevCerts, type DevCerts } from '../control-api/src/test-support/dev-certs.js';
import { ApiClient } from '../control-api/src/test-support/rest-client.js';
import { ADMIN } from '../control-api/src/test-support/test-api.js';
import { startApiInstances, type ApiInstances } from './support/api-instances.js';
import {
  procState,
  startAgent,
  waitForAgent,
  type RunningAgent,
  type RunningControlApi,
} from './support/control-stack.js';
import { shippedFailTimeoutMs, startGateway, type Gateway } from './support/gateway.js';
import { spawnSleeper, waitFor } from './support/processes.js';

/** The bound for an agent to be back online through another instance. */
const BACK_ONLINE_WITHIN_MS = 15_000;
/**
 * An action whose instance died ends `unknown` once another instance sweeps it: its deadline
 * (COMMAND_TIMEOUT_MS, 5 s by default) plus ORPHAN_GRACE_MS (10 s) plus one sweep interval (5 s).
 * Waited for generously.
 */
const ORPHAN_ENDED_WITHIN_MS = 60_000;

const read = (path: string) => readFileSync(path, 'utf8');

let certs: DevCerts;
let deployment: ApiInstances;
let gateway: Gateway;
let viaGateway: ApiClient;
let agent: RunningAgent;
let agentId: string;
const sleepers: ReturnType<typeof spawnSleeper>[] = [];

type Audit = { items: { commandId: string; reason: string; outcome: string; errorCode: string }[] };

beforeAll(async () => {
  certs = await makeDevCerts();
  const ca = await readFile(certs.caFile);
  deployment = await startApiInstances({ count: 2, certs, ca });
  gateway = await startGateway({ upstreams: deployment.instances, certs });
  viaGateway = new ApiClient(gateway.url, undefined, { ca });
  await viaGateway.login(ADMIN.username, ADMIN.password);
  const created = await viaGateway.request<{ token: string }>('POST', '/api/v1/agent-tokens', {
    name: 'failover',
  });
  expect(created.status).toBe(201);
  agent = startAgent({
    controlUrl: gateway.opampUrl,
    token: created.body.token,
    // The dev CA, for the agent's wss:// to the gateway (Node's own trust-store extension).
    env: { NODE_EXTRA_CA_CERTS: certs.caFile },
  });
  agentId = (
    await waitForAgent(viaGateway, viaGateway.accessToken!, () => true, {
      process: agent.process,
    })
  ).id;
});

afterAll(async () => {
  if (agent?.process.exited() === undefined) {
    // Never leave it frozen: a stopped process cannot handle the SIGTERM of stop().
    agent.process.signal('SIGCONT');
  }
  await agent?.stop();
  for (const sleeper of sleepers) {
    if (sleeper.exitCode === null && sleeper.signalCode === null) sleeper.kill('SIGKILL');
  }
  await gateway?.stop();
  await deployment?.stop();
  await certs?.remove();
});

/** The instance holding the agent's WebSocket, and the other one. */
async function holderAndSurvivor(): Promise<[RunningControlApi, RunningControlApi]> {
  const holder = await waitFor('an instance to hold the agent', () => deployment.holderOf());
  const survivor = deployment.instances.find((i) => i !== holder);
  if (!survivor) throw new Error('no second instance');
  return [holder, survivor];
}

/** Waits until the agent is online through `survivor`; returns the seconds since `since`. */
async function backOnlineThrough(survivor: RunningControlApi, since: number): Promise<number> {
  await waitFor(
    'the agent to be back online through the other instance',
    async () => {
      if ((await deployment.holderOf()) !== survivor) return undefined;
      const seen = await viaGateway.request('GET', `/api/v1/agents/${agentId}`);
      return seen.body.online === true ? true : undefined;
    },
    { timeoutMs: BACK_ONLINE_WITHIN_MS, intervalMs: 100, process: agent.process },
  );
  return (performance.now() - since) / 1000;
}

/** The gateway's passive health check: how long a server that failed stays out of rotation. */
const FAIL_TIMEOUT_MS = shippedFailTimeoutMs();

/**
 * Waits until the gateway sends requests to a restarted instance again. Its passive health check
 * keeps a server that failed (the stopped instance, while it was down) out of rotation for
 * fail_timeout, so a rolling restart lets that pass before it stops the next instance: else the
 * next one's agents find no live server at the gateway and wait its Retry-After.
 */
async function routedAgain(restarted: RunningControlApi): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, FAIL_TIMEOUT_MS));
  const address = `127.0.0.1:${restarted.port}`;
  await waitFor(
    `the gateway to route to the restarted instance ${address}`,
    async () => {
      await viaGateway.request('GET', '/readyz');
      const log = await gateway.accessLog();
      return log.some((e) => e.path === '/readyz' && e.status === 200 && e.upstream === address)
        ? true
        : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 500, process: restarted.process },
  );
}

/**
 * The start of each test: the instance an earlier test stopped comes back on its port (a
 * restart), and the gateway routes to it again; the agent stays where it is.
 */
async function restoreStoppedInstance(): Promise<void> {
  const stopped = deployment.instances.find((i) => i.process.exited());
  if (stopped) await routedAgain(await deployment.replace(stopped));
}

interface InFlight {
  reason: string;
  sleeper: ReturnType<typeof spawnSleeper>;
  reply: Promise<{ status: number; body: { code?: string; commandId?: string } }>;
}

/** Sends `suspend` of a fresh sleeper through the gateway; the reply is awaited later. */
function sendInFlight(reason: string): InFlight {
  const sleeper = spawnSleeper();
  sleepers.push(sleeper);
  const reply = viaGateway.request<{ code?: string; commandId?: string }>(
    'POST',
    `/api/v1/agents/${agentId}/processes/${sleeper.pid}/actions`,
    { action: 'suspend', reason },
  );
  return { reason, sleeper, reply };
}

/**
 * The one recorded outcome of an in-flight command: exactly one audit row with its reason, and
 * the command record agreeing with it. A command the agent carried out must be `unknown`.
 */
async function expectOneOutcome(command: InFlight): Promise<void> {
  const reply = await command.reply;
  const audit = await waitFor(
    `the audit row of "${command.reason}"`,
    async () => {
      const rows = (
        await viaGateway.request<Audit>('GET', `/api/v1/audit?agentId=${agentId}`)
      ).body.items.filter((row) => row.reason === command.reason);
      return rows.length > 0 ? rows : undefined;
    },
    { timeoutMs: ORPHAN_ENDED_WITHIN_MS, intervalMs: 500 },
  );
  expect(audit).toHaveLength(1);
  const row = audit[0]!;
  const recorded = await viaGateway.request<{ status: string; errorCode: string }>(
    'GET',
    `/api/v1/commands/${row.commandId}`,
  );
  const executed = procState(command.sleeper.pid, read) === 'T';
  console.log(
    `"${command.reason}": REST ${reply.status} ${reply.body.code ?? ''}, recorded ${recorded.body.status} (${recorded.body.errorCode}), audit ${row.outcome}, carried out by the agent: ${executed}`,
  );
  // The REST answer, when the caller got one from an instance, names the same command.
  if (reply.body.commandId !== undefined) expect(reply.body.commandId).toBe(row.commandId);
  if (executed) {
    expect(recorded.body).toMatchObject({ status: 'unknown', errorCode: 'outcome_unknown' });
    expect(row).toMatchObject({ outcome: 'unknown', errorCode: 'outcome_unknown' });
  } else {
    expect(['unknown', 'offline']).toContain(recorded.body.status);
    expect(row.errorCode).toBe(recorded.body.errorCode);
  }
}

/**
 * Nothing is carried out twice: the sleepers a stale command could suspend again are resumed
 * here, and after a command round trip on the new connection they still run.
 */
async function expectNoReexecution(commands: InFlight[]): Promise<void> {
  for (const { sleeper } of commands) process.kill(sleeper.pid, 'SIGCONT');
  const list = await viaGateway.request('GET', `/api/v1/agents/${agentId}/processes`);
  expect(list.status).toBe(200);
  for (const { sleeper } of commands) expect(procState(sleeper.pid, read)).not.toBe('T');
}

/** The agent's reconnection lines since `from` (its own account of close codes and delays). */
function reconnectLines(from: number): string[] {
  return agent.process
    .output()
    .slice(from)
    .split('\n')
    .filter((line) =>
      /connection ended|refused the upgrade|connected to the control plane/.test(line),
    );
}

/** Freezes the agent, sends two commands through the gateway, and gives them time to arrive. */
async function commandsInFlight(label: string): Promise<InFlight[]> {
  agent.process.signal('SIGSTOP');
  // Two requests, so that with round robin one usually enters each instance: one is relayed.
  const commands = [sendInFlight(`${label} 1`), sendInFlight(`${label} 2`)];
  // Not a speed bound: a pause for both to be written to the frozen agent's socket.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  return commands;
}

describe('two instances behind the gateway: the one holding the agent stops', () => {
  it('stopped gracefully with the agent running: it hears 1012 and comes back after a short jitter, not its backoff', async () => {
    await restoreStoppedInstance();
    const [holder, survivor] = await holderAndSurvivor();
    const logBefore = agent.process.output().length;

    const stoppedAt = performance.now();
    const stopping = holder.process.stop();
    const seconds = await backOnlineThrough(survivor, stoppedAt);
    await stopping;
    console.log(
      `agent back online through the other instance ${seconds.toFixed(2)} s after SIGTERM`,
    );
    expect((await viaGateway.request('GET', `/api/v1/agents/${agentId}/processes`)).status).toBe(
      200,
    );
    // The agent's own account: the server said "service restart", and it waited under a second.
    const reconnect = reconnectLines(logBefore).find((line) =>
      line.includes('control plane connection ended'),
    );
    expect(reconnect).toBeDefined();
    const logged = JSON.parse(reconnect!) as { closeCode?: number; delayMs?: number };
    expect(logged.closeCode).toBe(1012);
    expect(logged.delayMs).toBeLessThan(1000);
  });

  it('killed (SIGKILL): the agent is back through the other, the next command succeeds, commands in flight end once', async () => {
    await restoreStoppedInstance();
    const [holder, survivor] = await holderAndSurvivor();
    const commands = await commandsInFlight('in flight at the kill');

    holder.process.signal('SIGKILL');
    const stoppedAt = performance.now();
    await holder.process.exit();
    agent.process.signal('SIGCONT');

    const seconds = await backOnlineThrough(survivor, stoppedAt);
    console.log(
      `agent back online through the other instance ${seconds.toFixed(2)} s after SIGKILL`,
    );
    const next = await viaGateway.request('GET', `/api/v1/agents/${agentId}/processes`);
    expect(next.status, `refused: ${JSON.stringify(next.body)}`).toBe(200);

    for (const command of commands) await expectOneOutcome(command);
    await expectNoReexecution(commands);
  });

  it('stopped gracefully (SIGTERM): the agent is back through the other, and commands in flight end unknown once', async () => {
    // The killed instance comes back on its port (a restart); the agent stays where it is.
    await restoreStoppedInstance();
    const [holder, survivor] = await holderAndSurvivor();
    const commands = await commandsInFlight('in flight at the graceful stop');
    const logFrom = agent.process.output().length;

    const stoppedAt = performance.now();
    // The agent stays frozen until the instance is gone: it cannot answer before the stop.
    await holder.process.stop();
    expect((await holder.process.exit()).code).toBe(0);
    const stopSeconds = (performance.now() - stoppedAt) / 1000;
    agent.process.signal('SIGCONT');

    const seconds = await backOnlineThrough(survivor, stoppedAt);
    console.log(
      `agent back online through the other instance ${seconds.toFixed(2)} s after SIGTERM (the instance took ${stopSeconds.toFixed(2)} s to stop)\n${reconnectLines(logFrom).join('\n')}`,
    );
    const next = await viaGateway.request('GET', `/api/v1/agents/${agentId}/processes`);
    expect(next.status, `refused: ${JSON.stringify(next.body)}`).toBe(200);

    // A graceful stop answers every caller, directly or over Redis to the instance it entered.
    for (const command of commands) {
      expect(await command.reply).toMatchObject({ status: 502, body: { code: 'outcome_unknown' } });
      await expectOneOutcome(command);
    }
    await expectNoReexecution(commands);
  });
});
