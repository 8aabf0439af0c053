import { describe, expect, it } from 'vitest';
import { ApiError } from '../infra/problem.js';
import { parseGrafanaUser, serviceTokenActor } from './service-caller.js';

/** Node delivers header bytes as latin1 characters; this mimics it for a UTF-8 value. */
const asHeader = (text: string) => Buffer.from(text, 'utf8').toString('latin1');

function refusal(values: string[]): ApiError {
  try {
    parseGrafanaUser(values);
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error(`accepted ${JSON.stringify(values)}`);
}

describe('parseGrafanaUser', () => {
  it('is undefined when the header is absent', () => {
    expect(parseGrafanaUser(undefined)).toBeUndefined();
    expect(parseGrafanaUser([])).toBeUndefined();
  });

  it('accepts a login, an e-mail address and a UTF-8 name', () => {
    expect(parseGrafanaUser(['alice'])).toBe('alice');
    expect(parseGrafanaUser(['alice.smith@example.com'])).toBe('alice.smith@example.com');
    expect(parseGrafanaUser([asHeader('jörg müller')])).toBe('jörg müller');
    expect(parseGrafanaUser(['a'.repeat(100)])).toBe('a'.repeat(100));
  });

  it.each([
    ['empty', ['']],
    ['too long', ['a'.repeat(101)]],
    ['a control character', ['ali\u0001ce']],
    ['a tab', ['ali\tce']],
    ['bytes that are not UTF-8', ['j\u00f6rg']],
    ['sent twice', ['alice', 'bob']],
  ])('refuses a value that is %s with 400 validation_failed', (_what, values) => {
    const error = refusal(values);
    expect(error.status).toBe(400);
    expect(error.code).toBe('validation_failed');
    expect(error.extensions.errors).toEqual([
      expect.objectContaining({ in: 'header', path: ['x-grafana-user'] }),
    ]);
  });
});

describe('serviceTokenActor', () => {
  it('names the Grafana user and the token', () => {
    expect(serviceTokenActor('ops', 'alice')).toBe('grafana:alice via service token ops');
  });
  it('names only the token when no user is given', () => {
    expect(serviceTokenActor('ops', undefined)).toBe('service token ops');
  });
});
