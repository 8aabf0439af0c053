import { describe, expect, it } from 'vitest';
import type { UserPrincipal } from './access-tokens.js';
import { CallerAuthenticator } from './caller-authenticator.js';

const ALICE: UserPrincipal = { userId: 'u1', username: 'alice', role: 'operator' };
const SERVICE: UserPrincipal = { userId: 's1', username: 'service token ops', role: 'viewer' };

function authenticator() {
  const calls: { to: 'users' | 'service'; args: unknown[] }[] = [];
  const caller = new CallerAuthenticator(
    {
      authenticate: (...args) => {
        calls.push({ to: 'users', args });
        return Promise.resolve(ALICE);
      },
    },
    {
      authenticate: (...args) => {
        calls.push({ to: 'service', args });
        return Promise.resolve(SERVICE);
      },
    },
  );
  return { caller, calls };
}

describe('CallerAuthenticator', () => {
  it('hands a ccs_ bearer token and the Grafana user header to the service tokens', async () => {
    const { caller, calls } = authenticator();
    await expect(caller.authenticate('Bearer ccs_abc', ['alice'])).resolves.toBe(SERVICE);
    expect(calls).toEqual([{ to: 'service', args: ['ccs_abc', ['alice']] }]);
  });

  it('leaves every other credential, and the header, to the user authenticator', async () => {
    const { caller, calls } = authenticator();
    for (const authorization of ['Bearer eyJ.a.b', 'Bearer cca_agent', 'Basic ccs_x', undefined]) {
      await expect(caller.authenticate(authorization, ['mallory'])).resolves.toBe(ALICE);
    }
    expect(calls.map((c) => c.to)).toEqual(['users', 'users', 'users', 'users']);
    expect(calls[0]!.args).toEqual(['Bearer eyJ.a.b']);
  });
});
