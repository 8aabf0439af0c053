import express from 'express';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { TrustedProxies } from './client-ip.js';
import { createLogger, type LogSettings } from './logger.js';
import { requestLogger } from './request-logger.js';

/** The parts of a request line the tests read. */
type RequestLine = Record<string, unknown> & {
  level: string;
  msg: string;
  req: { id: string; headers: Record<string, unknown> };
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
let server: Server | undefined;

afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

/** A small app behind the request logger; returns its URL and the lines logged so far. */
async function serve(
  settings: LogSettings = { level: 'info', debugSample: 1 },
  trustedProxies = TrustedProxies.NONE,
) {
  const lines: string[] = [];
  const logger = createLogger(settings, { destination: { write: (line) => lines.push(line) } });
  const app = express();
  app.use(requestLogger(logger.child({ component: 'http' }), trustedProxies));
  const api = express.Router();
  api.get('/agents/:agentId', (_req, res) => {
    res.json({ ok: true });
  });
  app.use('/api/v1', api);
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/fails', (_req, res) => {
    res.status(500).json({});
  });
  server = createServer(app);
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const records = () => lines.map((line) => JSON.parse(line) as RequestLine);
  return { url, lines, records };
}

describe('requestLogger', () => {
  it('logs method, route pattern, status, duration and request id as each request ends', async () => {
    const { url, records } = await serve();
    const response = await fetch(`${url}/api/v1/agents/0197?limit=5`);
    expect(response.status).toBe(200);
    const id = response.headers.get('x-request-id');
    expect(id).toMatch(UUID);
    expect(records()).toEqual([
      expect.objectContaining({
        level: 'info',
        component: 'http',
        msg: 'GET /api/v1/agents/:agentId 200',
        route: '/api/v1/agents/:agentId',
        durationMs: expect.any(Number),
        req: expect.objectContaining({ id, method: 'GET', url: '/api/v1/agents/0197?limit=5' }),
        res: expect.objectContaining({ statusCode: 200 }),
      }),
    ]);
  });

  it('keeps a sane incoming X-Request-Id and replaces one that is not', async () => {
    const { url, records } = await serve();
    const kept = await fetch(`${url}/api/v1/agents/a`, {
      headers: { 'x-request-id': 'grafana-7f3a.1' },
    });
    expect(kept.headers.get('x-request-id')).toBe('grafana-7f3a.1');
    for (const bad of ['has space', 'x'.repeat(129), '"quoted"']) {
      const replaced = await fetch(`${url}/api/v1/agents/a`, { headers: { 'x-request-id': bad } });
      expect(replaced.headers.get('x-request-id')).toMatch(UUID);
    }
    expect(records().map((r) => r.req.id)).toEqual([
      'grafana-7f3a.1',
      expect.stringMatching(UUID),
      expect.stringMatching(UUID),
      expect.stringMatching(UUID),
    ]);
  });

  it('leaves /healthz out at info and logs it at debug', async () => {
    const quiet = await serve({ level: 'info', debugSample: 1 });
    expect((await fetch(`${quiet.url}/healthz`)).status).toBe(200);
    expect(quiet.lines).toEqual([]);
    await new Promise((resolve) => server?.close(resolve));

    const verbose = await serve({ level: 'debug', debugSample: 1 });
    await fetch(`${verbose.url}/healthz`);
    expect(verbose.records()).toEqual([
      expect.objectContaining({ level: 'debug', msg: 'GET /healthz 200' }),
    ]);
  });

  it('logs server errors at error, unmatched routes by that name', async () => {
    const { url, records } = await serve();
    await fetch(`${url}/fails`);
    await fetch(`${url}/nowhere`);
    expect(records().map((r) => [r.level, r.msg])).toEqual([
      ['error', 'GET /fails 500'],
      ['info', 'GET unmatched 404'],
    ]);
  });

  it('redacts the authorization and cookie headers', async () => {
    const { url, lines, records } = await serve();
    const secret = 'ccs_request-logger-test-secret';
    await fetch(`${url}/api/v1/agents/a`, {
      headers: { authorization: `Bearer ${secret}`, cookie: `grafana_session=${secret}` },
    });
    expect(lines.join('')).not.toContain(secret);
    expect(records()[0]?.req.headers).toMatchObject({
      authorization: '[redacted]',
      cookie: '[redacted]',
    });
  });

  it('logs the socket peer as the client address, whatever X-Forwarded-For says', async () => {
    const { url, records } = await serve();
    await fetch(`${url}/api/v1/agents/a`, { headers: { 'x-forwarded-for': '203.0.113.7' } });
    expect(records()[0]).toMatchObject({ clientIp: '127.0.0.1' });
  });

  it('logs the forwarded client address behind a trusted proxy', async () => {
    const { url, records } = await serve(undefined, TrustedProxies.parse(['127.0.0.1']));
    await fetch(`${url}/api/v1/agents/a`, { headers: { 'x-forwarded-for': '203.0.113.7' } });
    expect(records()[0]).toMatchObject({ clientIp: '203.0.113.7' });
  });
});
