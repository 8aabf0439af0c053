import { create, AgentDescriptionSchema, recordToKeyValues } from '@cybercorp/protocol';
import { describe, expect, it } from 'vitest';
import { describeAgent } from './agent-description.js';

describe('describeAgent', () => {
  it('takes the host name from the non-identifying attributes', () => {
    const description = create(AgentDescriptionSchema, {
      identifyingAttributes: recordToKeyValues({ 'service.name': 'cybercorp-agent' }),
      nonIdentifyingAttributes: recordToKeyValues({ 'host.name': 'web-1', 'os.type': 'linux' }),
    });
    expect(describeAgent(description)).toEqual({
      hostname: 'web-1',
      identifyingAttributes: { 'service.name': 'cybercorp-agent' },
      nonIdentifyingAttributes: { 'host.name': 'web-1', 'os.type': 'linux' },
    });
  });

  it('leaves the host name empty when no attribute carries it', () => {
    const description = create(AgentDescriptionSchema, {
      identifyingAttributes: recordToKeyValues({ 'service.name': 'x' }),
    });
    expect(describeAgent(description).hostname).toBeNull();
  });
});
