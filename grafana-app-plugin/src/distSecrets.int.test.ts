/**
 * No secret ships with the plugin. The production build runs with the provisioning example's
 * secret variables set (as on a deployer's machine) and every file it writes, source maps
 * included, is scanned for those values, for token-shaped strings, and (in code) for the
 * example's secret variable names: the tokens belong in Grafana's secureJsonData only.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

import { buildDist, PLUGIN_DIR } from './test/buildDist';

/** Shapes of the control API's secrets and of bearer credentials. */
const TOKEN_PATTERNS: Array<{ name: string; pattern: RegExp }> = [
  { name: 'JWT', pattern: /eyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]{8,}/ },
  { name: 'CyberCorp agent/refresh/service token', pattern: /\bcc[asr]_[A-Za-z0-9_-]{16,}/ },
  // A header template such as `Bearer {{ .SecureJsonData.readToken }}` is fine; a value is not.
  { name: 'bearer credential', pattern: /Bearer\s+(?!\{\{)[A-Za-z0-9._~+/-]{16,}/ },
];

function tokensIn(text: string): string[] {
  return TOKEN_PATTERNS.filter(({ pattern }) => pattern.test(text)).map(({ name }) => name);
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

/** The secureJsonData values of the provisioning examples: literals, or `${VAR}` references. */
function provisionedSecrets(): { literals: string[]; variables: string[] } {
  const literals: string[] = [];
  const variables: string[] = [];
  for (const file of filesUnder(join(PLUGIN_DIR, 'provisioning'))) {
    const doc = parse(readFileSync(file, 'utf8')) as {
      apps?: Array<{ secureJsonData?: Record<string, string> }>;
    } | null;
    for (const app of doc?.apps ?? []) {
      for (const value of Object.values(app.secureJsonData ?? {})) {
        const reference = /^\$\{?(\w+)\}?$/.exec(value);
        if (reference?.[1]) {
          variables.push(reference[1]);
        } else {
          literals.push(value);
        }
      }
    }
  }
  return { literals, variables };
}

const secrets = provisionedSecrets();
const planted = Object.fromEntries(
  secrets.variables.map((name) => [name, `ccs_${randomBytes(24).toString('base64url')}`]),
);
let distDir = '';
let files: string[] = [];

beforeAll(async () => {
  distDir = await buildDist({ ...process.env, ...planted });
  files = filesUnder(distDir);
}, 300_000);

describe('the built plugin (dist/)', () => {
  it('is scanned whole: code, source maps, plugin.json, README', () => {
    const names = files.map((file) => relative(distDir, file));
    expect(names).toEqual(
      expect.arrayContaining(['module.js', 'module.js.map', 'plugin.json', 'README.md']),
    );
    expect(secrets.variables.length + secrets.literals.length).toBeGreaterThan(0);
  });

  it('recognises the token shapes it scans for', () => {
    expect(tokensIn(`Authorization: Bearer ${'x'.repeat(20)}`)).toEqual(['bearer credential']);
    expect(tokensIn(Object.values(planted)[0] ?? 'ccs_aaaaaaaaaaaaaaaaaaaa')).toContain(
      'CyberCorp agent/refresh/service token',
    );
    expect(tokensIn('Bearer {{ .SecureJsonData.readToken }}')).toEqual([]);
  });

  it('contains no token-shaped string', () => {
    const found = files
      .map((file) => ({
        file: relative(distDir, file),
        kinds: tokensIn(readFileSync(file, 'utf8')),
      }))
      .filter(({ kinds }) => kinds.length > 0);
    expect(found).toEqual([]);
  });

  it('contains no value of the provisioning secrets, even when they are set at build time', () => {
    const values = [...secrets.literals, ...Object.values(planted)];
    const leaks = files.flatMap((file) => {
      const text = readFileSync(file, 'utf8');
      return values.filter((value) => text.includes(value)).map(() => relative(distDir, file));
    });
    expect(leaks).toEqual([]);
  });

  it("names the provisioning secrets' variables only in the documentation, never in code", () => {
    const code = files.filter((file) => !file.endsWith('.md'));
    const mentions = code.flatMap((file) => {
      const text = readFileSync(file, 'utf8');
      return secrets.variables
        .filter((name) => text.includes(name))
        .map((name) => `${relative(distDir, file)}: ${name}`);
    });
    expect(mentions).toEqual([]);
  });
});
