import type { WindowEvent } from '@cybercorp/protocol';
import type { Redis } from 'ioredis';
import { fromRedis } from '../infra/redis.js';

/**
 * The latest `window.event` each agent pushed. Every event carries the agent's full window
 * list, so the newest one is a complete snapshot; `GET /windows?cached=true` answers from it
 * without a round trip to the agent.
 */
export interface WindowSnapshots {
  put(agentId: string, event: WindowEvent): Promise<void>;
  get(agentId: string): Promise<WindowEvent | null>;
}

export class InMemoryWindowSnapshots implements WindowSnapshots {
  private readonly latest = new Map<string, WindowEvent>();

  async put(agentId: string, event: WindowEvent): Promise<void> {
    const current = this.latest.get(agentId);
    if (!current || current.at <= event.at) this.latest.set(agentId, event);
  }

  async get(agentId: string): Promise<WindowEvent | null> {
    return this.latest.get(agentId) ?? null;
  }
}

const KEY_PREFIX = 'cybercorp:windows:';
const SNAPSHOT_TTL_SECONDS = 24 * 3600;

export class RedisWindowSnapshots implements WindowSnapshots {
  constructor(private readonly redis: Redis) {}

  async put(agentId: string, event: WindowEvent): Promise<void> {
    await fromRedis(
      this.redis.set(KEY_PREFIX + agentId, JSON.stringify(event), 'EX', SNAPSHOT_TTL_SECONDS),
    );
  }

  async get(agentId: string): Promise<WindowEvent | null> {
    const value = await fromRedis(this.redis.get(KEY_PREFIX + agentId));
    return value ? (JSON.parse(value) as WindowEvent) : null;
  }
}
