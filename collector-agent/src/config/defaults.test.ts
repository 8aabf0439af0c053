import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from './defaults.js';
import { AgentConfigSchema, validateConfig } from './schema.js';

describe('DEFAULT_CONFIG', () => {
  it('is exactly what the schema fills in for an empty document', () => {
    expect(DEFAULT_CONFIG).toStrictEqual(AgentConfigSchema.parse({}));
    expect(DEFAULT_CONFIG).toStrictEqual(validateConfig(null));
  });
});
