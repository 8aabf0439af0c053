import type { Agent } from '@cybercorp/protocol';

/** Looks an OTel resource attribute up wherever the API put it. */
export function attributeOf(agent: Agent, key: string): string | undefined {
  const maps: Array<Record<string, string> | undefined> = [
    agent.resourceAttributes,
    agent.identifyingAttributes,
  ];
  for (const map of maps) {
    const value = map?.[key];
    if (value !== undefined) {
      return String(value);
    }
  }
  return undefined;
}

export function displayName(agent: Agent): string {
  return agent.hostname ?? attributeOf(agent, 'host.name') ?? agent.id;
}

export function osOf(agent: Agent): string {
  const type = attributeOf(agent, 'os.type');
  const description = attributeOf(agent, 'os.description');
  return [type, description].filter(Boolean).join(' — ') || 'unknown';
}
