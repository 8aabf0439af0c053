import { describe, expect, it } from 'vitest';
import { ProcessActionBody, ProcessParams } from './schemas.js';
import { validationError } from './route.js';

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
