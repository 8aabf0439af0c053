import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ENVIRONMENT_VARIABLES, resolveConfig } from './config.js';

describe('ENVIRONMENT_VARIABLES', () => {
  it('names every variable resolveConfig reads', () => {
    const read = new Set<string>();
    const recording = new Proxy<NodeJS.ProcessEnv>(
      {},
      {
        get: (_target, name) => {
          if (typeof name === 'string') read.add(name);
          return undefined;
        },
      },
    );
    resolveConfig({}, recording);
    expect(read.size).toBeGreaterThan(10);
    const listed: readonly string[] = ENVIRONMENT_VARIABLES;
    expect([...read].filter((name) => !listed.includes(name))).toEqual([]);
  });

  it('are each documented in the table of control-api/README.md', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const documented = new Set([...readme.matchAll(/^\| `([A-Z_]+)` /gm)].map((match) => match[1]));
    // CYBERCORP_LOG_LEVEL is the old name of LOG_LEVEL, mentioned in that row.
    const undocumented = ENVIRONMENT_VARIABLES.filter(
      (name) => name !== 'CYBERCORP_LOG_LEVEL' && !documented.has(name),
    );
    expect(undocumented).toEqual([]);
  });
});
