import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { INSTANCE_UID_FILE, InstanceUidError, loadOrCreateInstanceUid } from './instance-uid.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agent-state-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('instance uid', () => {
  it('creates a UUIDv7 once and returns the same one afterwards', async () => {
    const stateDir = join(dir, 'nested', 'state');
    const first = await loadOrCreateInstanceUid(stateDir);
    expect(first).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(await loadOrCreateInstanceUid(stateDir)).toBe(first);
    expect((await readFile(join(stateDir, INSTANCE_UID_FILE), 'utf8')).trim()).toBe(first);
  });

  it('refuses a corrupt file instead of silently becoming a new agent', async () => {
    await writeFile(join(dir, INSTANCE_UID_FILE), 'not-a-uuid\n');
    await expect(loadOrCreateInstanceUid(dir)).rejects.toThrow(InstanceUidError);
  });
});
