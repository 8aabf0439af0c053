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
});
