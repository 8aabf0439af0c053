import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ProcFileReader, vanished } from './proc-file-reader.js';

let root: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'proc-file-reader-'));
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('ProcFileReader', () => {
  it('reads files larger than its first buffer whole, both ways', async () => {
    const text = 'x'.repeat(40 * 1024) + 'end\n';
    await writeFile(join(root, 'big'), text);
    const reader = new ProcFileReader();
    expect(reader.readProcessFile(join(root, 'big'))).toBe(text);
    expect(reader.readToEnd(join(root, 'big'))).toBe(text);
    expect(reader.buffer.length).toBeGreaterThanOrEqual(text.length);
  });

  it('answers undefined for a process file that has gone, but throws for a listing', () => {
    const reader = new ProcFileReader();
    expect(reader.readProcessFile(join(root, 'gone'))).toBeUndefined();
    expect(() => reader.readToEnd(join(root, 'gone'))).toThrow(/ENOENT/);
  });

  it('counts only a missing file or process as vanished', () => {
    expect(vanished(Object.assign(new Error('x'), { code: 'ESRCH' }))).toBe(true);
    expect(vanished(Object.assign(new Error('x'), { code: 'ENOENT' }))).toBe(true);
    expect(vanished(Object.assign(new Error('x'), { code: 'EACCES' }))).toBe(false);
  });
});
