import { keyValuesToRecord, type AgentDescription } from '@cybercorp/protocol';

export interface DescribedAgent {
  hostname: string | null;
  identifyingAttributes: Record<string, string>;
  nonIdentifyingAttributes: Record<string, string>;
}

/** OTel resource attributes from an OpAMP AgentDescription; the host name is `host.name`. */
export function describeAgent(description: AgentDescription): DescribedAgent {
  const identifyingAttributes = keyValuesToRecord(description.identifyingAttributes);
  const nonIdentifyingAttributes = keyValuesToRecord(description.nonIdentifyingAttributes);
  const hostname =
    nonIdentifyingAttributes['host.name'] ?? identifyingAttributes['host.name'] ?? null;
  return { hostname, identifyingAttributes, nonIdentifyingAttributes };
}
