/**
 * The archive layout that Grafana's plugin validator (plugincheck2) and catalog expect, as
 * `scripts/plugincheck` packages it.
 *
 * Running plugincheck2 itself is not part of this suite: the Go module proxy this project's
 * machines reach refuses github.com/grafana/plugin-validator (403 "not available"), and its npm
 * wrapper downloads a binary from GitHub. `scripts/plugincheck` runs it wherever it can be
 * installed (or with PLUGINCHECK2=/path/to/plugincheck2).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

import { runCommand } from '../../e2e/support/processes.js';
import { buildDist, REPO_ROOT } from './test/buildDist';

const SCRIPT = join(REPO_ROOT, 'scripts/plugincheck');
let distDir = '';

beforeAll(async () => {
  distDir = await buildDist();
}, 300_000);

describe('scripts/plugincheck', () => {
  it('packages dist as <id>-<version>.zip holding a single <id>/ folder', async () => {
    const pluginJson = JSON.parse(readFileSync(join(distDir, 'plugin.json'), 'utf8')) as {
      id: string;
      info: { version: string };
    };
    const archive = join(mkdtempSync(join(tmpdir(), 'plugincheck-archive-')), 'plugin.zip');
    const packaged = await runCommand(SCRIPT, ['--package-only', archive, distDir]);
    expect(packaged.code, packaged.stderr).toBe(0);

    const listing = await runCommand('unzip', ['-Z1', archive]);
    expect(listing.code, listing.stderr).toBe(0);
    const entries = listing.stdout.split('\n').filter((line) => line !== '');
    expect(new Set(entries.map((entry) => entry.split('/')[0]))).toEqual(new Set([pluginJson.id]));
    for (const required of ['plugin.json', 'module.js', 'README.md', 'CHANGELOG.md']) {
      expect(entries).toContain(`${pluginJson.id}/${required}`);
    }
    expect(pluginJson.info.version).toMatch(/^\d+\.\d+\.\d+/);
  });
});
