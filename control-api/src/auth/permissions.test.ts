import { describe, expect, it } from 'vitest';
import { hasPermission, permissionsOf } from './permissions.js';

describe('permission table', () => {
  it('lets viewers read but not act', () => {
    expect(permissionsOf('viewer')).toEqual([
      'agents:read',
      'processes:read',
      'windows:read',
      'audit:read',
    ]);
    expect(hasPermission('viewer', 'processes:signal')).toBe(false);
    expect(hasPermission('viewer', 'users:admin')).toBe(false);
  });

  it('lets operators act on processes and windows but not administer', () => {
    expect(hasPermission('operator', 'processes:signal')).toBe(true);
    expect(hasPermission('operator', 'windows:control')).toBe(true);
    expect(hasPermission('operator', 'tokens:admin')).toBe(false);
    expect(hasPermission('operator', 'agents:admin')).toBe(false);
  });

  it('gives admins every permission', () => {
    expect(permissionsOf('admin')).toHaveLength(9);
  });
});
