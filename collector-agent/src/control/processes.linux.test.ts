import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cpuPercent, LinuxProcessTable } from './processes.linux.js';

/** A miniature /proc tree with literal files, so the reader's I/O paths run without a real host. */
let root: string;
let clock = 0;

function statLine(
  pid: number,
  comm: string,
  state: string,
  ppid: number,
  ticks: number,
  start: number,
  flags = 4194304,
) {
  return `${pid} (${comm}) ${state} ${ppid} ${pid} ${ppid} 0 -1 ${flags} 0 0 0 0 ${ticks} 0 0 0 20 0 1 0 ${start} 1000 10 0 0 0\n`;
}

async function addProcess(pid: number, stat: string, cmdline: string, tgid = pid) {
  await mkdir(join(root, 'proc', String(pid)), { recursive: true });
  await writeFile(
    join(root, 'proc', String(pid), 'status'),
    `Name:\tx\nTgid:\t${tgid}\nPid:\t${pid}\n`,
  );
  await writeFile(join(root, 'proc', String(pid), 'stat'), stat);
  await writeFile(join(root, 'proc', String(pid), 'cmdline'), cmdline);
}

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'proc-fixture-'));
  await mkdir(join(root, 'proc'));
  await writeFile(join(root, 'proc', 'stat'), 'cpu 1 2 3\nbtime 1700000000\n');
  await writeFile(join(root, 'passwd'), `root:x:0:0::/root:/bin/sh\n`);
  await mkdir(join(root, 'proc', 'self'));
  clock = 1_000_000;
});

const tables: LinuxProcessTable[] = [];

afterEach(async () => {
  for (const opened of tables.splice(0)) opened.close();
  await rm(root, { recursive: true, force: true });
});

function table() {
  const created = new LinuxProcessTable({
    procRoot: join(root, 'proc'),
    passwdPath: join(root, 'passwd'),
    now: () => clock,
  });
  tables.push(created);
  return created;
}

describe('LinuxProcessTable on a fixture tree', () => {
  it('lists numeric entries with derived fields and CPU from deltas', async () => {
    await addProcess(
      10,
      statLine(10, 'web server', 'S', 1, 100, 500),
      'web\u0000--port\u00008080\u0000',
    );
    await addProcess(11, statLine(11, 'kworker/0:1', 'I', 2, 0, 10, 0x00208040), '');
    const reader = table();

    const first = await reader.list();
    expect(first.map((p) => p.pid).sort()).toEqual([10, 11]);
    const web = first.find((p) => p.pid === 10);
    expect(web).toMatchObject({
      name: 'web server',
      ppid: 1,
      state: 'S',
      command: 'web --port 8080',
      memoryBytes: 10 * 4096,
      cpuPercent: 0,
      cpuSeconds: 1,
      kernelThread: false,
      startedAt: new Date(1_700_000_005_000).toISOString(),
    });
    // The fixture files belong to whoever runs the test; the name comes from the fixture passwd.
    expect(web?.user).toBe(web?.uid === 0 ? 'root' : String(web?.uid));
    expect(first.find((p) => p.pid === 11)).toMatchObject({
      kernelThread: true,
      command: '[kworker/0:1]',
    });

    await writeFile(join(root, 'proc', '10', 'stat'), statLine(10, 'web server', 'R', 1, 150, 500));
    clock += 2000;
    const second = await reader.list();
    expect(second.find((p) => p.pid === 10)?.cpuPercent).toBe(25);
  });

  it('lists summaries from the stat file alone, on the same CPU baseline as list()', async () => {
    await addProcess(10, statLine(10, 'web', 'S', 1, 100, 500), 'web\u0000--port\u00008080\u0000');
    const reader = table();
    await reader.list();
    // No cmdline any more: a summary does not read it, a full list would skip the process.
    await rm(join(root, 'proc', '10', 'cmdline'));
    await writeFile(join(root, 'proc', '10', 'stat'), statLine(10, 'web', 'R', 1, 150, 500));
    clock += 2000;
    const summaries = await reader.listSummaries();
    expect(summaries).toEqual([
      {
        pid: 10,
        ppid: 1,
        name: 'web',
        state: 'R',
        cpuPercent: 25,
        memoryBytes: 10 * 4096,
        startedAt: new Date(1_700_000_005_000).toISOString(),
        cpuSeconds: 1.5,
        kernelThread: false,
      },
    ]);
    expect(await reader.list()).toEqual([]);
  });

  it('does not carry CPU time across a reused pid', async () => {
    await addProcess(10, statLine(10, 'a', 'S', 1, 100, 500), 'a\u0000');
    const reader = table();
    await reader.list();
    await writeFile(join(root, 'proc', '10', 'stat'), statLine(10, 'b', 'S', 1, 400, 900));
    clock += 1000;
    expect((await reader.get(10))?.cpuPercent).toBe(0);
  });

  it('re-reads /etc/passwd for an unknown uid, at most once a minute', async () => {
    const uid = process.getuid?.() ?? 0;
    await writeFile(join(root, 'passwd'), 'nobody:x:65534:65534::/:/bin/false\n');
    await addProcess(10, statLine(10, 'a', 'S', 1, 100, 500), 'a\u0000');
    const reader = table();
    expect((await reader.get(10))?.user).toBe(String(uid));
    await writeFile(join(root, 'passwd'), `svc-user:x:${uid}:0::/:/bin/sh\n`);
    clock += 30_000;
    expect((await reader.get(10))?.user).toBe(String(uid));
    clock += 31_000;
    expect((await reader.get(10))?.user).toBe('svc-user');
  });

  it('tells the owner of a listed pid from /proc/<pid> alone, undefined once it has gone', async () => {
    const uid = process.getuid?.() ?? 0;
    await writeFile(join(root, 'passwd'), `svc-user:x:${uid}:0::/:/bin/sh\n`);
    await addProcess(10, statLine(10, 'a', 'S', 1, 100, 500), 'a\u0000');
    const reader = table();
    expect(await reader.userOf(10)).toBe('svc-user');
    await rm(join(root, 'proc', '10'), { recursive: true });
    expect(await reader.userOf(10)).toBeUndefined();
    expect(await reader.userOf(-1)).toBeUndefined();
  });

  it('reads a command line longer than its first buffer whole', async () => {
    const args = Array.from({ length: 3000 }, (_, i) => `--flag-${i}`);
    await addProcess(
      10,
      statLine(10, 'a', 'S', 1, 100, 500),
      `a\u0000${args.join('\u0000')}\u0000`,
    );
    const command = (await table().get(10))?.command ?? '';
    expect(command.length).toBeGreaterThan(16 * 1024);
    expect(command.endsWith('--flag-2999')).toBe(true);
  });

  it('does not mistake a thread id for a process', async () => {
    await addProcess(10, statLine(10, 'app', 'S', 1, 100, 500), 'app\u0000');
    await addProcess(13, statLine(13, 'app-worker', 'S', 1, 100, 500), 'app\u0000', 10);
    expect(await table().get(13)).toBeUndefined();
    expect((await table().get(10))?.name).toBe('app');
  });

  it('answers undefined for a pid that does not exist', async () => {
    expect(await table().get(424242)).toBeUndefined();
    expect(await table().get(0)).toBeUndefined();
  });

  it('skips a process whose files vanish between readdir and read', async () => {
    await addProcess(10, statLine(10, 'a', 'S', 1, 100, 500), 'a\u0000');
    await mkdir(join(root, 'proc', '12')); // directory without files: the process exited
    expect((await table().list()).map((p) => p.pid)).toEqual([10]);
  });

  it('propagates errors other than a vanished process', async () => {
    await addProcess(10, 'not a stat line', 'a\u0000');
    await expect(table().list()).rejects.toThrow(/stat line/);
  });
});

describe('cpuPercent', () => {
  it('computes CPU percent of one core from tick deltas', () => {
    expect(cpuPercent(50, 100, 1000)).toBe(50);
    expect(cpuPercent(300, 100, 1500)).toBe(200);
    expect(cpuPercent(0, 100, 1000)).toBe(0);
    expect(cpuPercent(10, 100, 0)).toBe(0);
  });
});
