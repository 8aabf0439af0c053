import { describe, expect, it } from 'vitest';
import { parseTasklistCsv } from './processes.win32.js';

describe('Windows tasklist parser', () => {
  it('parses tasklist CSV with quoted fields', () => {
    const stdout =
      '"System Idle Process","0","Services","0","8 K","Unknown","NT AUTHORITY\\SYSTEM","5:40:12","N/A"\r\n' +
      '"notepad.exe","4242","Console","1","12,345 K","Running","HOST\\alice","0:00:02","a ""quoted"" title"\r\n';
    const [, notepad] = parseTasklistCsv(stdout);
    expect(notepad).toMatchObject({
      pid: 4242,
      name: 'notepad.exe',
      user: 'HOST\\alice',
      memoryBytes: 12345 * 1024,
      cpuSeconds: 2,
      state: 'R',
    });
  });
});
