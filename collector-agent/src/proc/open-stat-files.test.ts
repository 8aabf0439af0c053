import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OpenStatFiles } from './open-stat-files.js';

let root: string;
let files: OpenStatFiles | undefined;
const buffer = Buffer.alloc(4096);

async function writeStat(pid: number, text: string): Promise<void> {
  await mkdir(join(root, String(pid)), { recursive: true });
  await writeFile(join(root, String(pid), 'stat'), text);
}

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'open-stat-'));
});

afterEach(async () => {
  files?.closeAll();
  files = undefined;
  await rm(root, { recursive: true, force: true });
});

describe('OpenStatFiles on a fixture tree', () => {
  it('keeps a file open and reads its current text from the start each time', async () => {
    await writeStat(10, '10 (a) S 1 100');
    files = new OpenStatFiles(root);
    expect(files.read(10, buffer)).toBe('10 (a) S 1 100');
    expect(files.openCount).toBe(1);
    await writeFile(join(root, '10', 'stat'), '10 (a) R 1 250');
    expect(files.read(10, buffer)).toBe('10 (a) R 1 250');
    expect(files.openCount).toBe(1);
  });

  it('answers undefined for a pid without a stat file', () => {
    files = new OpenStatFiles(root);
    expect(files.read(424242, buffer)).toBeUndefined();
    expect(files.openCount).toBe(0);
  });

  it('closes the files of pids a scan no longer lists', async () => {
    await writeStat(10, '10 (a) S');
    await writeStat(11, '11 (b) S');
    files = new OpenStatFiles(root);
    files.read(10, buffer);
    files.read(11, buffer);
    files.keepOnly(new Set([11]));
    expect(files.openCount).toBe(1);
    files.closeAll();
    expect(files.openCount).toBe(0);
  });

  it('holds at most maxOpen files and still reads the others', async () => {
    for (const pid of [10, 11, 12]) await writeStat(pid, `${pid} (p) S`);
    files = new OpenStatFiles(root, 2);
    expect([10, 11, 12].map((pid) => files?.read(pid, buffer))).toEqual([
      '10 (p) S',
      '11 (p) S',
      '12 (p) S',
    ]);
    expect(files.openCount).toBe(2);
  });
});
