/**
 * The README's promise: its first two commands are the quick start and the test suite, CI runs
 * exactly the second, and `npm start` brings up the control API with the local agent online and
 * says how to log in. (`npm install` on a fresh clone is what CI itself does.)
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './support/otelcol.js';
import { freePort, startProcess, waitFor, type StartedProcess } from './support/processes.js';

const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');

describe('README quick start', () => {
  it('starts with the two commands, and CI runs the second', () => {
    const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    const commands = firstBlock
      .split('\n')
      .map((line) => line.replace(/#.*$/, '').trim())
      .filter(Boolean);
    expect(commands).toEqual(['npm install && npm start', 'npm test']);
    expect(readme.indexOf('```sh')).toBeLessThan(readme.indexOf('\n## '));
    expect(readFileSync(join(REPO_ROOT, '.ci/run'), 'utf8')).toMatch(/^exec npm test$/m);
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8'));
    expect(pkg.scripts.test).toBe('bash scripts/test');
    expect(pkg.scripts.start).toMatch(/npm run build && node scripts\/start\.mjs/);
  });

  describe('npm start', () => {
    let workDir: string;
    let started: StartedProcess | undefined;

    afterAll(async () => {
      await started?.stop();
      if (workDir) rmSync(workDir, { recursive: true, force: true });
    });

    it('runs the control API with the local agent online and prints how to log in', async () => {
      workDir = mkdtempSync(join(tmpdir(), 'cybercorp-quickstart-'));
      const port = await freePort();
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        PORT: String(port),
        OTEL_METRICS_EXPORTER: 'none',
      };
      delete env.CYBERCORP_ADMIN_PASSWORD;
      delete env.DATABASE_URL;
      started = startProcess(process.execPath, [join(REPO_ROOT, 'scripts/start.mjs')], {
        name: 'npm start (scripts/start.mjs)',
        cwd: workDir,
        env,
      });
      const output = await waitFor(
        'the login instructions',
        async () =>
          started!.output().includes('Press Ctrl-C to stop.') ? started!.output() : undefined,
        { process: started, timeoutMs: 90_000 },
      );
      expect(output).toContain(`http://127.0.0.1:${port}`);
      expect(output).toMatch(/online as \S+ \([0-9a-f-]{36}\)/);

      // The generated admin password is printed once, and it logs in.
      const password = /"password":"([^"]+)"/.exec(output)?.[1];
      expect(password).toBeDefined();
      expect(password).not.toMatch(/^</);
      const login = await fetch(`http://127.0.0.1:${port}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'admin', password }),
      });
      expect(login.status).toBe(200);

      // Ctrl-C stops the agent and the API cleanly.
      process.kill(started.pid, 'SIGINT');
      await waitFor('npm start to exit', async () => started!.exited(), { timeoutMs: 30_000 });
      expect(started.exited()).toEqual({ code: 0, signal: null });

      // The next start on the same data reuses the local agent's token: the agent's instance uid
      // belongs to it, so the agent comes back online as itself.
      const tokenFile = join(workDir, '.data/agent/agent-token');
      expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
      const token = readFileSync(tokenFile, 'utf8');
      const localAgent = /online as (\S+ \([0-9a-f-]{36}\))/.exec(output)?.[1];
      started = startProcess(process.execPath, [join(REPO_ROOT, 'scripts/start.mjs')], {
        name: 'npm start again (scripts/start.mjs)',
        cwd: workDir,
        env: { ...env, CYBERCORP_ADMIN_PASSWORD: password },
      });
      const again = await waitFor(
        'the login instructions of the second start',
        async () =>
          started!.output().includes('Press Ctrl-C to stop.') ? started!.output() : undefined,
        { process: started, timeoutMs: 90_000 },
      );
      expect(again).toContain(`online as ${localAgent}`);
      expect(readFileSync(tokenFile, 'utf8')).toBe(token);
      process.kill(started.pid, 'SIGINT');
      await waitFor('npm start to exit', async () => started!.exited(), { timeoutMs: 30_000 });
      expect(started.exited()).toEqual({ code: 0, signal: null });
    });
  });
});
