import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../logger.js';
import { ConfigStore } from './config-store.js';
import { ConfigError } from './config-error.js';
import { DEFAULT_CONFIG } from './defaults.js';

let dir: string;
let lines: string[];
const log = () =>
  createLogger(
    { level: 'debug', debugSample: 1 },
    { destination: { write: (line) => lines.push(line) } },
  );

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agent-config-'));
  lines = [];
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function waitFor(condition: () => boolean, timeoutMs = 5000) {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('ConfigStore', () => {
  it('uses defaults without a file: control on, nothing protected, top 10', async () => {
    const store = await ConfigStore.open(undefined, log());
    expect(store.current()).toEqual(DEFAULT_CONFIG);
    expect(DEFAULT_CONFIG).toEqual({
      control: { enabled: true, windows: { enabled: true } },
      protected: { names: [], users: [], pids: [], cgroups: [] },
      metrics: { topN: 10 },
    });
  });

  it('accepts the shipped example config', async () => {
    const example = new URL('../../agent.example.yaml', import.meta.url).pathname;
    const store = await ConfigStore.open(example, log());
    expect(store.current().protected.names.length).toBeGreaterThan(0);
    expect(store.current().protected.cgroups).toEqual(['system.slice/sshd.service']);
  });

  it('takes protected pids and cgroups, and refuses the cgroup root (it would protect all)', async () => {
    const path = join(dir, 'agent.yaml');
    await writeFile(path, 'protected:\n  pids: [4242]\n  cgroups: [/user.slice/backup.service]\n');
    expect((await ConfigStore.open(path, log())).current().protected).toEqual({
      names: [],
      users: [],
      pids: [4242],
      cgroups: ['/user.slice/backup.service'],
    });
    for (const bad of ['pids: [0]', 'pids: [-3]', 'cgroups: [/]', "cgroups: ['']"]) {
      await writeFile(path, `protected:\n  ${bad}\n`);
      await expect(ConfigStore.open(path, log()), bad).rejects.toThrow(ConfigError);
    }
  });

  it('loads YAML and refuses an invalid file at start with the reason', async () => {
    const path = join(dir, 'agent.yaml');
    await writeFile(
      path,
      'control:\n  enabled: false\nprotected:\n  names: [sshd]\nstateDir: /var/lib/x\n',
    );
    const store = await ConfigStore.open(path, log());
    expect(store.current()).toMatchObject({
      control: { enabled: false },
      protected: { names: ['sshd'] },
      stateDir: '/var/lib/x',
    });

    await writeFile(path, 'protect:\n  names: [sshd]\n');
    await expect(ConfigStore.open(path, log())).rejects.toThrow(ConfigError);
    await writeFile(path, 'control: [unclosed\n');
    await expect(ConfigStore.open(path, log())).rejects.toThrow(/not valid YAML/);
  });

  it('hot-reloads on change, keeps the previous config on an invalid edit, and sees rename-saves', async () => {
    const path = join(dir, 'agent.yaml');
    await writeFile(path, 'protected:\n  names: [sshd]\n');
    const store = await ConfigStore.open(path, log());
    const seen: string[][] = [];
    store.onChange((next) => seen.push(next.protected.names));
    store.watch();
    try {
      await writeFile(path, 'protected:\n  names: [sshd, postgres]\n');
      await waitFor(() => seen.length === 1);
      expect(store.current().protected.names).toEqual(['sshd', 'postgres']);

      await writeFile(path, 'protected:\n  names: yes-please\n');
      await waitFor(() => lines.some((l) => l.includes('config reload refused')));
      expect(store.current().protected.names).toEqual(['sshd', 'postgres']);
      expect(lines.find((l) => l.includes('config reload refused'))).toContain('protected.names');

      // Editors often write a temporary file and rename it over the original.
      const temporary = join(dir, '.agent.yaml.swp');
      await writeFile(temporary, 'control:\n  enabled: false\n');
      await rename(temporary, path);
      await waitFor(() => store.current().control.enabled === false);
      expect(seen).toHaveLength(2);
    } finally {
      store.close();
    }
  });
});
