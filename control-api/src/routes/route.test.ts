import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { describe, expect, it } from 'vitest';
import { errorHandler } from '../infra/error-handler.js';
import { silentLogger } from '../infra/logger.js';
import { ProcessActionBody, ProcessParams } from '@cybercorp/protocol';
import { defineRoute, mountRoutes, validationError } from './route.js';
import { TrustedProxies } from '../infra/client-ip.js';

function errorOf(
  schema: { safeParse(v: unknown): { success: boolean; error?: unknown } },
  value: unknown,
) {
  const result = schema.safeParse(value);
  expect(result.success).toBe(false);
  return result.error as Parameters<typeof validationError>[0];
}

describe('validationError', () => {
  it('names an unknown action unknown_action', () => {
    const input = { action: 'explode' };
    const error = validationError(errorOf(ProcessActionBody, input), 'body', input);
    expect(error.code).toBe('unknown_action');
    expect(error.status).toBe(400);
  });

  it('reports other invalid fields as validation_failed with their location', () => {
    const input = { reason: 'x' };
    const missing = validationError(errorOf(ProcessActionBody, input), 'body', input);
    expect(missing.code).toBe('validation_failed');
    const pid = validationError(errorOf(ProcessParams, { agentId: 'a', pid: 'abc' }), 'path');
    expect(pid.code).toBe('validation_failed');
    expect(pid.message).toBe('path.pid: pid must be a positive integer');
    expect(pid.extensions.errors).toEqual([
      { in: 'path', path: ['pid'], message: 'pid must be a positive integer' },
    ]);
  });

  it('accepts a numeric pid and turns it into a number', () => {
    expect(ProcessParams.parse({ agentId: 'a', pid: '4242' })).toEqual({ agentId: 'a', pid: 4242 });
    expect(ProcessParams.safeParse({ agentId: 'a', pid: '0' }).success).toBe(false);
    expect(ProcessParams.safeParse({ agentId: 'a', pid: '99999999999' }).success).toBe(false);
  });
});

describe('mountRoutes', () => {
  it('answers a known path with an unserved method 405 with Allow; OPTIONS lists them', async () => {
    const app = express();
    const router = express.Router();
    const route = defineRoute({
      method: 'get',
      path: '/things/:id',
      summary: 'a thing',
      tag: 'test',
      access: 'public',
      responses: { 200: { description: 'ok' } },
      handler: async () => ({ status: 200, body: { ok: true } }),
    });
    mountRoutes(router, [route], {
      authenticator: {} as never,
      audit: {} as never,
      trustedProxies: TrustedProxies.NONE,
    });
    app.use('/api', router);
    app.use(errorHandler(silentLogger));
    const server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/things/1`;
    try {
      expect((await fetch(base)).status).toBe(200);
      const put = await fetch(base, { method: 'PUT' });
      expect(put.status).toBe(405);
      expect(put.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
      expect(put.headers.get('content-type')).toContain('application/problem+json');
      expect(await put.json()).toMatchObject({ status: 405, code: 'method_not_allowed' });
      const options = await fetch(base, { method: 'OPTIONS' });
      expect(options.status).toBe(204);
      expect(options.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
    } finally {
      server.close();
    }
  });
});
