import { describe, expect, it } from 'vitest';
import { parseCpuTime, parseMacPs, parseTasklistCsv } from './processes.native.js';

describe('native process listing parsers', () => {
  it('parses macOS ps rows with spaces in the command line', () => {
    const stdout = [
      '    1     0     0 root             Ss     0.3  13984   1:02.55 Mon Nov 24 09:00:01 2026     /sbin/launchd',
      '  812     1   501 alice            S      2.5 204800   0:10.00 Tue Nov 25 10:11:12 2026     /Applications/My App.app/Contents/MacOS/My App --flag',
      '',
    ].join('\n');
    const [launchd, app] = parseMacPs(stdout);
    expect(launchd).toMatchObject({
      pid: 1,
      ppid: 0,
      user: 'root',
      state: 'S',
      name: 'launchd',
      uid: 0,
    });
    expect(app).toMatchObject({
      pid: 812,
      ppid: 1,
      user: 'alice',
      uid: 501,
      cpuPercent: 2.5,
      memoryBytes: 204800 * 1024,
      command: '/Applications/My App.app/Contents/MacOS/My App --flag',
      cpuSeconds: 10,
    });
    expect(app?.startedAt).not.toBeNull();
    expect(() => parseMacPs('what is this')).toThrow(/unexpected ps line/);
  });

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

  it('converts ps/tasklist CPU times to seconds', () => {
    expect(parseCpuTime('1:02.50')).toBe(62.5);
    expect(parseCpuTime('2-01:00:00')).toBe(2 * 86400 + 3600);
    expect(parseCpuTime('5:40:12')).toBe(5 * 3600 + 40 * 60 + 12);
  });
});
