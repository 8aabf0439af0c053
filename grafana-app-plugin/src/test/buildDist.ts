import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { runCommand } from '../../../e2e/support/processes.js';

export const PLUGIN_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const REPO_ROOT = resolve(PLUGIN_DIR, '..');

/**
 * Runs the plugin's production webpack build into a fresh temporary folder (the same files
 * `npm run build` writes to dist/) and returns that folder. `env` is the build's environment.
 */
export async function buildDist(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const outDir = mkdtempSync(join(tmpdir(), 'grafana-plugin-dist-'));
  const cli = createRequire(import.meta.url).resolve('webpack-cli/bin/cli.js');
  const result = await runCommand(
    process.execPath,
    [cli, '--config', 'webpack.config.js', '--env', 'production', '--output-path', outDir],
    { cwd: PLUGIN_DIR, env, timeoutMs: 300_000 },
  );
  if (result.code !== 0) {
    throw new Error(`webpack build failed:\n${result.stdout}\n${result.stderr}`);
  }
  return outDir;
}
