/**
 * The agent's control connection over wss:// against a real TLS 1.3 server (node https + ws,
 * certificates from scripts/dev-certs): the CA file, the SPKI pins with a backup pin, and the
 * refusals, which never fall back to anything and say why in the agent's log.
 */
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { websocketFrames, type AgentToServer } from '@cybercorp/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { makeDevCerts, type DevCerts } from '../../../control-api/src/test-support/dev-certs.js';
import { waitFor } from '../../../e2e/support/processes.js';
import { startAgent, type RunningAgent } from '../agent.js';
import { createLogger } from '../logger.js';
import { spkiPin } from './spki-pins.js';

const TOKEN = 'agent-token-for-tls-tests';
/** A well-formed pin of no key in these tests. */
const WRONG_PIN = 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';

/** An OpAMP-over-wss endpoint that counts connections and upgrades and records messages. */
class TlsOpampServer {
  readonly messages: AgentToServer[] = [];
  readonly authorizations: string[] = [];
  /** TCP connections: a refused handshake never reaches `secureConnection`. */
  connections = 0;
  private readonly sockets: WebSocket[] = [];
  private readonly https: Server;
  private readonly wss = new WebSocketServer({ noServer: true });

  constructor(certs: { cert: string; key: string }) {
    this.https = createServer({ ...certs, minVersion: 'TLSv1.3' }, (_req, res) =>
      res.writeHead(404).end(),
    );
    this.https.on('connection', () => this.connections++);
    // A client that refuses our certificate aborts the handshake: that is the point here.
    this.https.on('tlsClientError', () => {});
    this.https.on('upgrade', (request, socket, head) => {
      this.authorizations.push(request.headers.authorization ?? '');
      this.wss.handleUpgrade(request, socket, head, (ws) => {
        this.sockets.push(ws);
        ws.on('message', (data: Buffer) =>
          this.messages.push(websocketFrames.decodeAgentToServer(new Uint8Array(data))),
        );
      });
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.https.listen(0, '127.0.0.1', resolve));
    const address = this.https.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    return `wss://127.0.0.1:${address.port}/v1/opamp`;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.terminate();
    this.wss.close();
    this.https.closeAllConnections();
    await new Promise((resolve) => this.https.close(resolve));
  }
}

describe('agent control connection over wss:// with CA and pins', () => {
  let certs: DevCerts;
  /** A second CA (with its own server certificate): one that did not issue the server's. */
  let otherCerts: DevCerts;
  let server: TlsOpampServer;
  let url: string;
  let stateDir: string;
  let caPin: string;
  const agents: RunningAgent[] = [];

  beforeAll(async () => {
    certs = await makeDevCerts();
    otherCerts = await makeDevCerts();
    caPin = spkiPin(new X509Certificate(await readFile(certs.caFile)));
    server = new TlsOpampServer({
      cert: await readFile(certs.certFile, 'utf8'),
      key: await readFile(certs.keyFile, 'utf8'),
    });
    url = await server.listen();
    stateDir = await mkdtemp(join(tmpdir(), 'agent-tls-'));
  });
  afterEach(async () => {
    for (const agent of agents.splice(0)) await agent.stop();
  });
  afterAll(async () => {
    await server?.close();
    await certs?.remove();
    await otherCerts?.remove();
    await rm(stateDir, { recursive: true, force: true });
  });

  async function agent(env: Record<string, string>) {
    const lines: Array<Record<string, unknown>> = [];
    const log = createLogger(
      { level: 'info', debugSample: 0 },
      { destination: { write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) } },
    );
    const running = await startAgent({
      env: {
        CYBERCORP_CONTROL_URL: url,
        CYBERCORP_AGENT_TOKEN: TOKEN,
        CYBERCORP_AGENT_STATE_DIR: stateDir,
        CYBERCORP_CA_FILE: certs.caFile,
        ...env,
      },
      log,
    });
    agents.push(running);
    return { running, lines };
  }

  async function connects(env: Record<string, string>) {
    const upgradesBefore = server.authorizations.length;
    const messagesBefore = server.messages.length;
    const { running } = await agent(env);
    await waitFor('the agent to connect over wss', async () =>
      running.client?.status === 'connected' ? true : undefined,
    );
    expect(server.authorizations.slice(upgradesBefore)).toEqual([`Bearer ${TOKEN}`]);
    // The OpAMP exchange works over it: the agent's description arrives.
    await waitFor('the AgentDescription over wss', async () =>
      server.messages.slice(messagesBefore).find((m) => m.agentDescription) ? true : undefined,
    );
  }

  /** Starts an agent that must be refused; returns its log after several attempts. */
  async function refused(env: Record<string, string>, attempts = 3) {
    const upgradesBefore = server.authorizations.length;
    const connectionsBefore = server.connections;
    const { running, lines } = await agent(env);
    // The backoff keeps trying the same URL (500 ms, then up to 1 s, 2 s, ... with jitter).
    await waitFor(
      `${attempts} refused attempts`,
      async () =>
        lines.filter((l) => l.msg === 'control plane connection ended; reconnecting').length >=
        attempts
          ? true
          : undefined,
      { timeoutMs: 30_000 },
    );
    expect(running.client?.status).not.toBe('connected');
    expect(running.client?.connections).toBe(0);
    // Not one HTTP request, so the token never left the agent.
    expect(server.authorizations.length).toBe(upgradesBefore);
    return { lines, attempts: server.connections - connectionsBefore };
  }

  it('connects with the CA file and the server certificate pinned', async () => {
    await connects({ CYBERCORP_TLS_PIN_SHA256: certs.pin });
  });

  it('connects with a pin set holding a backup pin, in either order, and with the CA pinned', async () => {
    await connects({ CYBERCORP_TLS_PIN_SHA256: `${WRONG_PIN},sha256/${certs.pin}` });
    await connects({ CYBERCORP_TLS_PIN_SHA256: `pin-sha256="${certs.pin}", ${WRONG_PIN}` });
    await connects({ CYBERCORP_TLS_PIN_SHA256: caPin });
  });

  it('refuses a certificate matching no pin: one clear line naming both pin sets, no fallback', async () => {
    const { lines, attempts } = await refused({ CYBERCORP_TLS_PIN_SHA256: WRONG_PIN });
    expect(attempts).toBeGreaterThanOrEqual(3);
    const refusals = lines.filter((l) => l.code === 'tls_pin_mismatch');
    // Throttled: one line for all the attempts.
    expect(refusals).toHaveLength(1);
    expect(refusals[0]).toMatchObject({
      level: 'error',
      url,
      expectedPins: [WRONG_PIN],
      presentedPins: [certs.pin, caPin],
    });
    const reconnects = lines.filter(
      (l) => l.msg === 'control plane connection ended; reconnecting',
    );
    expect(reconnects[0]?.reason).toMatch(/^tls_pin_mismatch: /);
  });

  it('still refuses with NODE_TLS_REJECT_UNAUTHORIZED=0 in the environment', async () => {
    const before = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
    try {
      const { lines } = await refused({ CYBERCORP_TLS_PIN_SHA256: WRONG_PIN }, 2);
      expect(lines.filter((l) => l.code === 'tls_pin_mismatch')).toHaveLength(1);
    } finally {
      if (before === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
      else process.env.NODE_TLS_REJECT_UNAUTHORIZED = before;
    }
  });

  it('refuses a server whose issuer is not in CYBERCORP_CA_FILE, even with the right pin', async () => {
    const { lines } = await refused({
      CYBERCORP_CA_FILE: otherCerts.caFile,
      CYBERCORP_TLS_PIN_SHA256: certs.pin,
    });
    const refusals = lines.filter((l) => l.code === 'tls_verify_failed');
    expect(refusals).toHaveLength(1);
    expect(refusals[0]).toMatchObject({
      level: 'error',
      url,
      verifyError: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    });
  });

  it('does not start with a malformed pin, naming the variable', async () => {
    await expect(agent({ CYBERCORP_TLS_PIN_SHA256: 'not-a-pin' })).rejects.toThrow(
      /CYBERCORP_TLS_PIN_SHA256: "not-a-pin" is not a SHA-256 pin/,
    );
  });
});
