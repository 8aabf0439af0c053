import { describe, expect, it } from 'vitest';
import { inCgroup, normalizeCgroup, parseCgroupPaths } from './pid-cgroup.js';

describe('parseCgroupPaths', () => {
  it('reads the unified hierarchy of cgroup v2', () => {
    expect(parseCgroupPaths('0::/system.slice/sshd.service\n')).toEqual([
      'system.slice/sshd.service',
    ]);
  });

  it('reads every hierarchy of cgroup v1 and a hybrid host once each', () => {
    const hybrid = [
      '12:pids:/system.slice/sshd.service',
      '4:memory:/system.slice/sshd.service',
      '1:name=systemd:/system.slice/sshd.service',
      '0::/',
      '',
    ].join('\n');
    expect(parseCgroupPaths(hybrid)).toEqual(['system.slice/sshd.service', '']);
  });

  it('keeps a colon inside the path and skips lines without two colons', () => {
    expect(parseCgroupPaths('0::/machine.slice/vm:1.scope\ngarbage\n')).toEqual([
      'machine.slice/vm:1.scope',
    ]);
  });
});

describe('inCgroup', () => {
  const paths = ['system.slice/sshd.service/sub', 'user.slice'];

  it('matches the cgroup itself and those below it, written with or without slashes', () => {
    expect(inCgroup(paths, 'system.slice/sshd.service')).toBe(true);
    expect(inCgroup(paths, '/system.slice/sshd.service/')).toBe(true);
    expect(inCgroup(paths, 'system.slice/sshd.service/sub')).toBe(true);
    expect(inCgroup(paths, 'user.slice')).toBe(true);
  });

  it('does not match a name prefix, a sibling or a child of the process cgroup', () => {
    expect(inCgroup(paths, 'system.slice/sshd')).toBe(false);
    expect(inCgroup(paths, 'system.slice/cron.service')).toBe(false);
    expect(inCgroup(paths, 'user.slice/user-1000.slice')).toBe(false);
  });

  it('normalizes slashes at both ends only', () => {
    expect(normalizeCgroup('//a/b//')).toBe('a/b');
    expect(normalizeCgroup('/')).toBe('');
  });
});
