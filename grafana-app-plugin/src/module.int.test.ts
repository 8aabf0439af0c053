/**
 * The production bundle as Grafana loads it: webpack runs for real, then dist's module.js is
 * evaluated through an AMD `define` the way Grafana's SystemJS loader does, with stand-ins for
 * the modules Grafana provides.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

import { runCommand } from '../../e2e/support/processes.js';

const PLUGIN_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

/** Modules Grafana's plugin loader shares with plugins; anything else must be bundled. */
const PROVIDED_BY_GRAFANA = new Set([
  '@emotion/css',
  '@emotion/react',
  '@grafana/data',
  '@grafana/runtime',
  '@grafana/ui',
  'react',
  'react-dom',
  'react-router',
  'rxjs',
  'lodash',
  'moment',
  'i18next',
]);

let outDir = '';

beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), 'grafana-plugin-dist-'));
  const cli = require.resolve('webpack-cli/bin/cli.js');
  const result = await runCommand(
    process.execPath,
    [cli, '--config', 'webpack.config.js', '--env', 'production', '--output-path', outDir],
    { cwd: PLUGIN_DIR },
  );
  expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
}, 180_000);

function amdModule(source: string): {
  deps: string[];
  exports: Record<string, unknown>;
  calls: string[];
} {
  const calls: string[] = [];
  class AppPlugin {
    root?: unknown;
    configPages: Array<{ id: string; title: string }> = [];
    setRootPage(root: unknown) {
      calls.push('setRootPage');
      this.root = root;
      return this;
    }
    addConfigPage(page: { id: string; title: string }) {
      calls.push(`addConfigPage:${page.id}`);
      this.configPages.push(page);
      return this;
    }
  }
  const stand_ins: Record<string, unknown> = {
    '@grafana/data': { AppPlugin },
    '@grafana/ui': { LoadingPlaceholder: () => null },
    '@grafana/runtime': {},
    '@emotion/css': {},
    react: require('react'),
    'react-dom': {},
    'react-router': {},
    rxjs: {},
  };
  let deps: string[] = [];
  let exports: Record<string, unknown> = {};
  const define = (names: string[], factory: (...modules: unknown[]) => Record<string, unknown>) => {
    deps = names;
    exports = factory(...names.map((name) => stand_ins[name]));
  };
  // webpack's chunk registry lives on the browser's `self`; a fresh object stands in for it.
  // Evaluating the built bundle is what this test is for.
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const run = new Function('define', 'self', source) as (d: typeof define, self: object) => void;
  run(define, {});
  return { deps, exports, calls };
}

describe('dist/module.js', () => {
  it('is an AMD module that imports only what Grafana provides', () => {
    const { deps } = amdModule(readFileSync(join(outDir, 'module.js'), 'utf8'));
    expect(deps.length).toBeGreaterThan(0);
    expect(deps.filter((name) => !PROVIDED_BY_GRAFANA.has(name))).toEqual([]);
  });

  it('exports an AppPlugin with a root page and the configuration page', () => {
    const { exports, calls } = amdModule(readFileSync(join(outDir, 'module.js'), 'utf8'));
    expect(exports.plugin).toBeDefined();
    expect(calls).toEqual(['setRootPage', 'addConfigPage:configuration']);
  });

  it('ships plugin.json with its placeholders filled, the logo, the dashboards, README and CHANGELOG', () => {
    const pluginJson = JSON.parse(readFileSync(join(outDir, 'plugin.json'), 'utf8')) as {
      id: string;
      info: { version: string; updated: string; logos: { small: string; large: string } };
      includes: Array<{ type: string; path: string }>;
    };
    const pkg = JSON.parse(readFileSync(join(PLUGIN_DIR, 'package.json'), 'utf8')) as {
      version: string;
    };
    expect(pluginJson.id).toBe('cybercorp-fleet-app');
    expect(pluginJson.info.version).toBe(pkg.version);
    expect(pluginJson.info.updated).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(JSON.stringify(pluginJson)).not.toContain('%PLUGIN_ID%');
    expect(existsSync(join(outDir, pluginJson.info.logos.small))).toBe(true);
    for (const include of pluginJson.includes.filter((i) => i.type === 'dashboard')) {
      expect(existsSync(join(outDir, include.path)), include.path).toBe(true);
    }
    expect(existsSync(join(outDir, 'README.md'))).toBe(true);
    expect(existsSync(join(outDir, 'CHANGELOG.md'))).toBe(true);
    expect(readFileSync(join(outDir, 'README.md'), 'utf8')).not.toContain('%PLUGIN_ID%');
  });

  it('loads its pages lazily from the plugin public path', () => {
    const source = readFileSync(join(outDir, 'module.js'), 'utf8');
    expect(source).toContain('public/plugins/cybercorp-fleet-app/');
  });
});
