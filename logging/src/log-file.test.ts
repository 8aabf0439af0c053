import {
  chmodSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openLogger } from './open-logger.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cybercorp-log-file-'));
  dirs.push(dir);
  return dir;
}

const today = () => {
  const now = new Date();
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
};

describe('openLogger with LOG_FILE', () => {
  it('writes each line to stderr and to a dated file not readable by other users', async () => {
    const dir = tempDir();
    const console: string[] = [];
    const opened = await openLogger(
      { level: 'info', debugSample: 1, file: { path: join(dir, 'logs', 'api.log'), count: 30 } },
      { destination: { write: (line) => console.push(line) } },
    );
    const { logger } = opened;
    logger.info('hello', { password: 'hunter2' });
    await opened.close();

    const files = readdirSync(join(dir, 'logs'));
    expect(files).toEqual([`api.${today()}.1.log`]);
    const path = join(dir, 'logs', files[0]!);
    expect(statSync(path).mode & 0o777).toBe(0o640);
    const written = readFileSync(path, 'utf8');
    expect(written).toBe(console.join(''));
    expect(JSON.parse(written)).toMatchObject({
      level: 'info',
      msg: 'hello',
      password: '[redacted]',
    });
  });

  it('appends to the file of the day and narrows one left world-readable', async () => {
    const dir = tempDir();
    const path = join(dir, `agent.${today()}.1.log`);
    writeFileSync(path, '{"msg":"before"}\n');
    chmodSync(path, 0o644);
    const opened = await openLogger(
      { level: 'info', debugSample: 1, file: { path: join(dir, 'agent.log'), count: 2 } },
      { destination: { write: () => {} } },
    );
    const { logger } = opened;
    logger.warn('after');
    await opened.close();
    expect(statSync(path).mode & 0o777).toBe(0o640);
    expect(readFileSync(path, 'utf8').split('\n').filter(Boolean)).toHaveLength(2);
  });
});

describe('a closed log file', () => {
  it('leaves later lines to stderr instead of throwing', async () => {
    const console: string[] = [];
    const opened = await openLogger(
      { level: 'info', debugSample: 1, file: { path: join(tempDir(), 'a.log'), count: 2 } },
      { destination: { write: (line) => console.push(line) } },
    );
    const { logger } = opened;
    await opened.close();
    logger.warn('second signal');
    await opened.close();
    expect(console).toHaveLength(1);
  });
});
