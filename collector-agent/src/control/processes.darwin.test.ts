import { describe, expect, it } from 'vitest';
import { parseMacPs } from './processes.darwin.js';

describe('macOS ps listing parser', () => {
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
});
