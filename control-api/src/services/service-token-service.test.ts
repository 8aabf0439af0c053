import { describe, expect, it } from 'vitest';
import { hashToken } from '../auth/secrets.js';
import { silentLogger } from '../infra/logger.js';
import type { ServiceTokenRepository, ServiceTokenRow } from '../repositories/service-tokens.js';
import { ServiceTokenService } from './service-token-service.js';

const SECRET = 'ccs_fixture-secret-with-enough-characters-000000';

/** A repository holding one stored token, found only by the hash of SECRET. */
function serviceWith(role: string) {
  const row = {
    id: '0198c0de-0000-7000-8000-000000000001',
    name: 'ops',
    role,
    createdBy: 'admin',
    createdAt: new Date('2026-01-01T00:00:00Z'),
  } as ServiceTokenRow;
  const lookups: string[] = [];
  const repository = {
    findActiveByHash: (hash: string) => {
      lookups.push(hash);
      return Promise.resolve(hash === hashToken(SECRET) ? row : null);
    },
  } as unknown as ServiceTokenRepository;
  return { service: new ServiceTokenService(repository, { now: () => 0 }, silentLogger), lookups };
}

describe('ServiceTokenService.authenticate', () => {
  it('acts with the stored role under the Grafana user it names', async () => {
    const { service, lookups } = serviceWith('operator');
    await expect(service.authenticate(SECRET, ['alice'])).resolves.toMatchObject({
      userId: '0198c0de-0000-7000-8000-000000000001',
      username: 'grafana:alice via service token ops',
      role: 'operator',
      grafanaUser: 'alice',
    });
    expect(lookups).toEqual([hashToken(SECRET)]);
  });

  it('refuses an unknown secret and anything without the ccs_ prefix', async () => {
    const { service, lookups } = serviceWith('viewer');
    await expect(service.authenticate('ccs_other', undefined)).rejects.toMatchObject({
      code: 'unauthorized',
    });
    await expect(service.authenticate('cca_agent', undefined)).rejects.toMatchObject({
      code: 'unauthorized',
    });
    expect(lookups).toHaveLength(1);
  });

  it('never lets a stored token act as admin', async () => {
    const { service } = serviceWith('admin');
    await expect(service.authenticate(SECRET, ['alice'])).rejects.toMatchObject({
      code: 'unauthorized',
    });
  });

  it('checks the token before the header', async () => {
    const { service } = serviceWith('viewer');
    await expect(service.authenticate('ccs_other', ['x'.repeat(101)])).rejects.toMatchObject({
      code: 'unauthorized',
    });
    await expect(service.authenticate(SECRET, ['x'.repeat(101)])).rejects.toMatchObject({
      code: 'validation_failed',
      status: 400,
    });
  });
});
