import { describe, expect, it } from 'vitest';
import { isDatabaseUnavailable } from './database-errors.js';

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe('isDatabaseUnavailable', () => {
  it('recognises a server that is down, frozen, shutting down or too slow', () => {
    for (const error of [
      withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'),
      withCode('read ECONNRESET', 'ECONNRESET'),
      new Error('timeout exceeded when trying to connect'),
      new Error('Connection terminated due to connection timeout'),
      new Error('Connection terminated unexpectedly'),
      new Error('Query read timeout'),
      withCode('terminating connection due to administrator command', '57P01'),
      withCode('the database system is starting up', '57P03'),
      withCode('canceling statement due to statement timeout', '57014'),
      withCode('connection failure', '08006'),
      withCode('sorry, too many clients already', '53300'),
      withCode('cannot execute INSERT in a read-only transaction', '25006'),
      new AggregateError(
        [
          withCode('a', 'ECONNREFUSED'),
          withCode('database host b does not accept writes', '25006'),
        ],
        'no database host accepts writes',
      ),
      Object.assign(
        new AggregateError([withCode('a', 'ECONNREFUSED'), withCode('b', 'ECONNREFUSED')]),
        {},
      ),
      new Error('wrapped', { cause: withCode('connect ECONNREFUSED', 'ECONNREFUSED') }),
    ]) {
      expect(isDatabaseUnavailable(error), String(error)).toBe(true);
    }
  });

  it('leaves query errors and bugs alone', () => {
    for (const error of [
      withCode('duplicate key value violates unique constraint "users_username_key"', '23505'),
      withCode('relation "nope" does not exist', '42P01'),
      withCode('password authentication failed for user "postgres"', '28P01'),
      new TypeError('cannot read properties of undefined'),
      'a string',
      undefined,
      null,
    ]) {
      expect(isDatabaseUnavailable(error), String(error)).toBe(false);
    }
  });
});
